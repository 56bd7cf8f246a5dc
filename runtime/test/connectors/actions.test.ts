import { defineConnector, type ElementTemplate } from '@pectrack/connector-sdk';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installAll, registryEntries } from '../../src/connectors/index.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';

const actor = admin();

/** A connector with two actions: neither is registered under the bare type. */
const textConnector = defineConnector({
  type: 'pectrack:text',
  version: '1.0.0',
  configSchema: z.object({}),
  templates: (['upper', 'lower'] as const).map((action): ElementTemplate => ({
    name: `Text ${action}`,
    id: `pectrack.text.${action}`,
    appliesTo: ['bpmn:ServiceTask'],
    properties: [
      {
        type: 'Hidden',
        value: 'pectrack:text',
        binding: { type: 'pectrack:connector', property: 'type' },
      },
      {
        type: 'Hidden',
        value: action,
        binding: { type: 'pectrack:connector', property: 'action' },
      },
      { type: 'String', label: 'Text', binding: { type: 'pectrack:input', name: 'text' } },
      {
        type: 'String',
        label: 'Result variable',
        binding: { type: 'pectrack:output', source: 'result' },
      },
    ],
  })),
  actions: {
    upper: {
      inputSchema: z.object({ text: z.string() }),
      run: async ({ text }) => ({ result: text.toUpperCase() }),
    },
    lower: {
      inputSchema: z.object({ text: z.string() }),
      run: async ({ text }) => ({ result: text.toLowerCase() }),
    },
  },
});

/**
 * What a designer writes when it applies an element template: the connector bindings become
 * attributes of <pectrack:connector>, the input and output bindings its mappings.
 */
function applyTemplate(template: ElementTemplate, values: Record<string, string>): string {
  const attributes: string[] = [];
  const mappings: string[] = [];
  for (const property of template.properties) {
    const value = property.label ? values[property.label] : property.value;
    const { binding } = property;
    if (binding.type === 'pectrack:connector') attributes.push(`${binding.property}="${value}"`);
    else if (binding.type === 'pectrack:input')
      mappings.push(`<pectrack:input source="${value}" target="${binding.name}" />`);
    else mappings.push(`<pectrack:output source="=${binding.source}" target="${value}" />`);
  }
  return `<pectrack:connector ${attributes.join(' ')}>${mappings.join('')}</pectrack:connector>`;
}

function templateOf(action: string): ElementTemplate {
  return textConnector.templates.find((t) => t.id === `pectrack.text.${action}`)!;
}

const shouting = diagram(
  'shouting',
  `<bpmn:startEvent id="start" />
   <bpmn:serviceTask id="shout">
     <bpmn:extensionElements>
       ${applyTemplate(templateOf('upper'), { Text: '=greeting', 'Result variable': 'loud' })}
     </bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:serviceTask id="whisper">
     <bpmn:extensionElements>
       ${applyTemplate(templateOf('lower'), { Text: '=greeting', 'Result variable': 'quiet' })}
     </bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:endEvent id="end" />
   ${flows('start>shout', 'shout>whisper', 'whisper>end')}`,
);

const misnamed = diagram(
  'misnamed',
  `<bpmn:startEvent id="start" />
   <bpmn:serviceTask id="sing">
     <bpmn:extensionElements><pectrack:connector type="pectrack:text" action="sing" /></bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:endEvent id="end" />
   ${flows('start>sing', 'sing>end')}`,
);

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(
    `a connector with several actions on ${database.kind}`,
    () => {
      const runtime = useRuntime(
        database,
        {
          connectors: registryEntries(
            installAll([textConnector], { 'pectrack:text': {} }),
            pino({ level: 'silent' }),
          ),
          scheduler: {
            processEveryMs: 100,
            connectorAttempts: 2,
            connectorBackoffMs: 50,
            outboxPollMs: 100,
          },
        },
        true,
      );

      const warnings: Record<string, string[]> = {};
      beforeAll(async () => {
        for (const [name, xml] of [
          ['shouting', shouting],
          ['misnamed', misnamed],
        ] as const) {
          const deployed = await runtime().services.definitions.deploy(actor, {
            name,
            files: [{ filename: `${name}.bpmn`, xml }],
          });
          warnings[name] = deployed.warnings.map((warning) => warning.reason);
        }
      });

      it('warns at deployment about the action no connector has, listing those installed', () => {
        expect(warnings).toEqual({
          shouting: [],
          misnamed: [
            'connector type "pectrack:text:sing" is not installed on this node: its instances will stop here with an incident until it is (installed: pectrack:text:lower, pectrack:text:upper)',
          ],
        });
      });

      it('runs each action a template-bound diagram names (type and action attributes)', async () => {
        const instance = await runtime().services.instances.start(actor, {
          definitionKey: 'shouting',
          variables: { greeting: 'Buongiorno' },
        });
        const done = await eventually('the instance to complete', async () => {
          const detail = await runtime().services.instances.get(actor, instance.id);
          return detail.status === 'completed' ? detail : null;
        });
        expect(done.variables).toMatchObject({ loud: 'BUONGIORNO', quiet: 'buongiorno' });
      });

      it('raises an incident naming the type:action key no connector has', async () => {
        const instance = await runtime().services.instances.start(actor, {
          definitionKey: 'misnamed',
          variables: {},
        });
        const incident = await eventually('an open incident', async () => {
          const [open] = await runtime().services.incidents.list(actor, {
            instanceId: instance.id,
            status: 'open',
          });
          return open;
        });
        expect(incident).toMatchObject({ elementId: 'sing', type: 'connector' });
        expect(incident.message).toContain(
          'no connector of type "pectrack:text:sing" is installed',
        );
      });
    },
  );
}
