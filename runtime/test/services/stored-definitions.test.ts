/**
 * A definition stored by an earlier release, whose deployment checks were laxer, keeps running
 * its instances after an upgrade that refuses the same XML at deployment.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';

const actor = admin();

const review = (task: string) =>
  diagram(
    'review',
    `<bpmn:startEvent id="start" />
     ${task}
     <bpmn:endEvent id="end" />
     ${flows('start>check', 'check>end')}`,
  );
const clean = review('<bpmn:userTask id="check" pectrack:assignee="demo" />');
/** What an earlier release let through: attributes and an extension it never executed. */
const lax = review(
  `<bpmn:userTask id="check" pectrack:assignee="demo" pectrack:colour="red">
     <bpmn:extensionElements><pectrack:sticker text="urgente" /></bpmn:extensionElements>
   </bpmn:userTask>`,
);

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`stored definitions on ${database.kind}`, () => {
    it('runs instances of a definition the current checks would refuse to deploy', async () => {
      const created = await database.create();
      let runtime: Runtime | undefined;
      try {
        runtime = await createRuntime(created.config);
        const [definition] = (
          await runtime.services.definitions.deploy(actor, {
            name: 'review',
            files: [{ filename: 'review.bpmn', xml: clean }],
          })
        ).definitions;
        const waiting = await runtime.services.instances.start(actor, { definitionKey: 'review' });
        // The row as the earlier release stored it; a restart (the upgrade) compiles it again.
        await knexOf(runtime.orm)('process_definition')
          .where({ id: definition!.id })
          .update({ xml: lax });
        await runtime.stop();
        runtime = undefined;

        runtime = await createRuntime(created.config);
        const { services } = runtime;
        const [task] = await services.tasks.list(actor, { instanceId: waiting.id });
        await services.tasks.complete(actor, task!.id, {});
        expect((await services.instances.get(actor, waiting.id)).status).toBe('completed');
        const later = await services.instances.start(actor, { definitionKey: 'review' });
        expect(await services.tasks.list(actor, { instanceId: later.id })).toHaveLength(1);

        const refused = await services.definitions
          .deploy(actor, { name: 'review', files: [{ filename: 'review.bpmn', xml: lax }] })
          .catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(ValidationError);
        expect((refused as ValidationError).problems.map((p) => p.reason)).toEqual([
          'unknown element <pectrack:sticker>: the engine does not execute it',
          'attribute "pectrack:colour" is not supported on userTask: the engine does not execute it',
        ]);
      } finally {
        await runtime?.stop();
        await created.drop();
      }
    });
  });
}
