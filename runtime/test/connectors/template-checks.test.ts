/**
 * defineConnector checks a template against what it writes into a diagram, so a broken package
 * fails when it is loaded, not when a process reaches the task: one connector type bound, an
 * action bound when there are several (each is registered as `type:action` only), inputs the
 * action's schema takes and every input it requires.
 */
import {
  ConnectorDefinitionError,
  defineConnector,
  type ElementTemplate,
  type TemplateProperty,
} from '@pectrack/connector-sdk';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installAll, registryEntries } from '../../src/connectors/index.js';

const typeBinding: TemplateProperty = {
  type: 'Hidden',
  value: 'acme:text',
  binding: { type: 'pectrack:connector', property: 'type' },
};
const textInput: TemplateProperty = {
  type: 'String',
  label: 'Text',
  binding: { type: 'pectrack:input', name: 'text' },
};

const template = (properties: TemplateProperty[]): ElementTemplate => ({
  name: 'Upper case',
  id: 'acme.text.upper',
  appliesTo: ['bpmn:ServiceTask'],
  properties,
});

const twoActions = {
  upper: {
    inputSchema: z.object({ text: z.string() }),
    run: async ({ text }: { text: string }) => ({ result: text.toUpperCase() }),
  },
  lower: {
    inputSchema: z.object({ text: z.string() }),
    run: async ({ text }: { text: string }) => ({ result: text.toLowerCase() }),
  },
};

function define(properties: TemplateProperty[]) {
  return () =>
    defineConnector({
      type: 'acme:text',
      version: '1.0.0',
      configSchema: z.object({}),
      templates: [template(properties)],
      actions: twoActions,
    });
}

describe('defineConnector refuses a template that can never name a registered action', () => {
  it('a template of a connector with several actions that binds no action', () => {
    // The key the template's diagram would carry is not among those the runtime registers.
    const registered = Object.keys(
      registryEntries(
        installAll(
          [
            defineConnector({
              type: 'acme:text',
              version: '1.0.0',
              configSchema: z.object({}),
              templates: [],
              actions: twoActions,
            }),
          ],
          {},
        ),
        pino({ level: 'silent' }),
      ),
    );
    expect(registered).not.toContain('acme:text');

    expect(define([typeBinding, textInput])).toThrow(ConnectorDefinitionError);
  });

  it('a template that binds no connector type', () => {
    expect(
      define([
        {
          type: 'Hidden',
          value: 'upper',
          binding: { type: 'pectrack:connector', property: 'action' },
        },
        textInput,
      ]),
    ).toThrow(ConnectorDefinitionError);
  });
});

describe('defineConnector refuses a template whose inputs the action cannot take', () => {
  const fax = (properties: TemplateProperty[]) => () =>
    defineConnector({
      type: 'acme:fax',
      version: '1.0.0',
      configSchema: z.object({}),
      templates: [
        {
          name: 'Send fax',
          id: 'acme.fax.send',
          appliesTo: ['bpmn:SendTask'],
          properties: [
            {
              type: 'Hidden',
              value: 'acme:fax',
              binding: { type: 'pectrack:connector', property: 'type' },
            },
            ...properties,
          ],
        },
      ],
      actions: {
        send: {
          // Strict, like pectrack:pec's PecSendInput: a field it does not honour is refused.
          inputSchema: z.strictObject({ number: z.string(), text: z.string() }),
          run: async () => ({}),
        },
      },
    });
  const input = (name: string): TemplateProperty => ({
    type: 'String',
    label: name,
    binding: { type: 'pectrack:input', name },
  });

  it('(control) accepts the template that offers exactly what the action takes', () => {
    expect(fax([input('number'), input('text')])).not.toThrow();
    expect(
      define([
        typeBinding,
        {
          type: 'Hidden',
          value: 'upper',
          binding: { type: 'pectrack:connector', property: 'action' },
        },
        textInput,
      ]),
    ).not.toThrow();
  });

  it('a template input the strict input schema refuses', () => {
    expect(fax([input('number'), input('text'), input('coverPage')])).toThrow(
      ConnectorDefinitionError,
    );
  });

  it('a template that never offers an input the schema requires', () => {
    expect(fax([input('number')])).toThrow(ConnectorDefinitionError);
  });
});
