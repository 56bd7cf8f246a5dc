import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { bpmnFixture, diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';

const actor = admin();

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`services on ${database.kind}`, () => {
    const runtime = useRuntime(database);

    it('deploys, starts, completes the task and ends the instance', async () => {
      const { services } = runtime();
      const deployed = await services.definitions.deploy(actor, {
        name: 'approval',
        files: [{ filename: 'simple-approval.bpmn', xml: bpmnFixture('simple-approval.bpmn') }],
      });
      expect(deployed.definitions.map((d) => [d.key, d.version])).toEqual([['simple-approval', 1]]);

      const started = await services.instances.start(actor, {
        definitionKey: 'simple-approval',
        businessKey: 'PEC-1',
        variables: { subject: 'richiesta' },
      });
      expect(started).toMatchObject({
        status: 'active',
        businessKey: 'PEC-1',
        definitionVersion: 1,
      });

      const [task] = await services.tasks.list(actor, { instanceId: started.id });
      expect(task).toMatchObject({
        elementId: 'review',
        status: 'open',
        assignee: 'demo',
        kind: 'user',
      });

      await services.tasks.complete(actor, task!.id, { approved: true });

      const done = await services.instances.get(actor, started.id);
      expect(done.status).toBe('completed');
      expect(done.endedAt).not.toBeNull();
      expect(done.variables).toMatchObject({ subject: 'richiesta', approved: true });
      expect(done.history.map((h) => [h.event, h.elementId])).toContainEqual([
        'elementCompleted',
        'approved',
      ]);
      expect(await services.tasks.get(actor, task!.id)).toMatchObject({ status: 'completed' });
      await expect(services.tasks.complete(actor, task!.id, {})).rejects.toBeInstanceOf(
        ConflictError,
      );
    });

    it('keeps running instances on their version and starts new ones on the latest', async () => {
      const { services } = runtime();
      const v1 = diagram(
        'versioned',
        `
        <bpmn:startEvent id="start" />
        <bpmn:userTask id="review" name="first" />
        <bpmn:endEvent id="end" />
        ${flows('start>review', 'review>end')}`,
      );
      const v2 = v1.replace('name="first"', 'name="second"');
      await services.definitions.deploy(actor, {
        name: 'v1',
        files: [{ filename: 'v.bpmn', xml: v1 }],
      });
      const old = await services.instances.start(actor, { definitionKey: 'versioned' });
      await services.definitions.deploy(actor, {
        name: 'v2',
        files: [{ filename: 'v.bpmn', xml: v2 }],
      });
      const fresh = await services.instances.start(actor, { definitionKey: 'versioned' });

      expect([old.definitionVersion, fresh.definitionVersion]).toEqual([1, 2]);
      const [oldTask] = await services.tasks.list(actor, { instanceId: old.id });
      const [freshTask] = await services.tasks.list(actor, { instanceId: fresh.id });
      expect([oldTask!.name, freshTask!.name]).toEqual(['first', 'second']);

      await services.tasks.complete(actor, oldTask!.id);
      expect((await services.instances.get(actor, old.id)).status).toBe('completed');
      const versions = await services.definitions.list(actor, { key: 'versioned' });
      expect(versions.map((d) => d.version)).toEqual([2, 1]);
      expect(
        (await services.definitions.list(actor, { key: 'versioned', latestOnly: true })).map(
          (d) => d.version,
        ),
      ).toEqual([2]);
    });

    it('skips an unchanged file with duplicate filtering and versions a changed one', async () => {
      const { services } = runtime();
      const xml = diagram(
        'dup',
        `<bpmn:startEvent id="s" /><bpmn:endEvent id="e" />${flows('s>e')}`,
      );
      const first = await services.definitions.deploy(actor, {
        name: 'd',
        files: [{ filename: 'd.bpmn', xml }],
        duplicateFiltering: true,
      });
      const again = await services.definitions.deploy(actor, {
        name: 'd',
        files: [{ filename: 'd.bpmn', xml }],
        duplicateFiltering: true,
      });
      expect(again.deploymentId).toBe(first.deploymentId);
      expect(again.definitions.map((d) => d.version)).toEqual([1]);
      const changed = await services.definitions.deploy(actor, {
        name: 'd',
        files: [{ filename: 'd.bpmn', xml: xml.replace('id="e"', 'id="e" name="End"') }],
        duplicateFiltering: true,
      });
      expect(changed.definitions.map((d) => d.version)).toEqual([2]);
    });

    it('refuses a diagram the engine cannot run with 422 and the problems, storing nothing', async () => {
      const { services } = runtime();
      const good = diagram(
        'atomic',
        `<bpmn:startEvent id="s" /><bpmn:endEvent id="e" />${flows('s>e')}`,
      );
      const bad = diagram(
        'broken',
        `<bpmn:startEvent id="s" /><bpmn:scriptTask id="script" /><bpmn:endEvent id="e" />${flows('s>script', 'script>e')}`,
      );
      const error = await services.definitions
        .deploy(actor, {
          name: 'mixed',
          files: [
            { filename: 'good.bpmn', xml: good },
            { filename: 'bad.bpmn', xml: bad },
          ],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).status).toBe(422);
      expect((error as ValidationError).problems).toContainEqual(
        expect.objectContaining({ path: 'bad.bpmn', elementId: 'script', type: 'scriptTask' }),
      );
      expect(await services.definitions.list(actor, { key: 'atomic' })).toEqual([]);
    });

    it('claims, unclaims and assigns open tasks; a claimed task cannot be claimed by another', async () => {
      const { services } = runtime();
      const instance = await services.instances.start(actor, { definitionKey: 'simple-approval' });
      const taskId = instance.tasks[0]!.id;
      expect(instance.tasks[0]).toMatchObject({ elementId: 'review', status: 'open' });
      await services.tasks.unclaim(actor, taskId);
      expect(await services.tasks.claim(actor, taskId, 'mario')).toMatchObject({
        assignee: 'mario',
      });
      await expect(services.tasks.claim(actor, taskId, 'luigi')).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await services.tasks.list(actor, { assignee: 'mario', status: 'open' })).toEqual([
        expect.objectContaining({ id: taskId }),
      ]);
      expect(await services.tasks.assign(actor, taskId, 'luigi')).toMatchObject({
        assignee: 'luigi',
      });
      await services.tasks.complete(actor, taskId, { approved: false });
      await expect(services.tasks.assign(actor, taskId, 'mario')).rejects.toBeInstanceOf(
        ConflictError,
      );
      await expect(services.tasks.claim(actor, 'no-such-task', 'mario')).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('scopes every read to the tenant and reports unknown ids as not found', async () => {
      const { services } = runtime();
      const mine = await services.instances.start(actor, { definitionKey: 'simple-approval' });
      const stranger = admin('elsewhere');
      await expect(services.instances.get(stranger, mine.id)).rejects.toBeInstanceOf(NotFoundError);
      expect(await services.tasks.list(stranger, { instanceId: mine.id })).toEqual([]);
      await expect(services.tasks.complete(stranger, `${mine.id}:t1`, {})).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(
        services.instances.start(actor, { definitionKey: 'no-such-key' }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
