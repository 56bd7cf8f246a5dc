import { describe, expect, it } from 'vitest';
import { TIMER_JOB } from '../../src/scheduler/index.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';

const actor = admin();

const reminder = diagram(
  'reminder',
  `<bpmn:startEvent id="start" />
   <bpmn:intermediateCatchEvent id="pause">
     <bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>
   </bpmn:intermediateCatchEvent>
   <bpmn:endEvent id="end" />
   ${flows('start>pause', 'pause>end')}`,
);

const deadline = diagram(
  'deadline',
  `<bpmn:startEvent id="start" />
   <bpmn:userTask id="review" />
   <bpmn:boundaryEvent id="late" attachedToRef="review">
     <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
   </bpmn:boundaryEvent>
   <bpmn:endEvent id="done" />
   <bpmn:endEvent id="escalated" />
   ${flows('start>review', 'review>done', 'late>escalated')}`,
);

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`timers on ${database.kind}`, () => {
    const runtime = useRuntime(
      database,
      { scheduler: { processEveryMs: 200, outboxPollMs: 200 } },
      true,
    );

    const timerJobs = async (instanceId: string) =>
      (await runtime().scheduler.agenda.queryJobs({ name: TIMER_JOB })).jobs.filter(
        (job) => (job.data as { instanceId: string }).instanceId === instanceId,
      );

    it('fires a due timer through Agenda and moves the instance on', async () => {
      const { services } = runtime();
      await services.definitions.deploy(actor, {
        name: 'r',
        files: [{ filename: 'r.bpmn', xml: reminder }],
      });
      const instance = await services.instances.start(actor, { definitionKey: 'reminder' });
      expect(instance.status).toBe('active');
      const ended = await eventually('the timer to fire', async () => {
        const detail = await services.instances.get(actor, instance.id);
        return detail.status === 'completed' ? detail : null;
      });
      expect(
        ended.history.filter((h) => h.elementId === 'pause' && h.event === 'elementCompleted'),
      ).toHaveLength(1);
    });

    it('cancels the boundary timer job when the task completes first', async () => {
      const { services } = runtime();
      await services.definitions.deploy(actor, {
        name: 'd',
        files: [{ filename: 'd.bpmn', xml: deadline }],
      });
      const instance = await services.instances.start(actor, { definitionKey: 'deadline' });
      const [job] = await eventually('the timer job', async () => {
        const jobs = await timerJobs(instance.id);
        return jobs.length ? jobs : null;
      });
      expect(job!.nextRunAt!.getTime()).toBeGreaterThan(Date.now() + 59 * 60_000);

      await services.tasks.complete(actor, instance.tasks[0]!.id, {});
      await eventually(
        'the timer job to be removed',
        async () => (await timerJobs(instance.id)).length === 0,
      );
      const detail = await services.instances.get(actor, instance.id);
      expect(detail.status).toBe('completed');
      expect(
        detail.history.some((h) => h.elementId === 'done' && h.event === 'elementCompleted'),
      ).toBe(true);
    });
  });
}
