import { describe, expect, it } from 'vitest';
import { fixture, Instance, ofType, problemsOf } from './helpers.js';

/** The shared fixtures other suites reuse: each must keep doing what its comment says. */
describe('shared BPMN fixtures', () => {
  it('timer-escalation: daily reminders while the task is open, then the deadline withdraws it', async () => {
    const instance = await Instance.start(fixture('timer-escalation.bpmn'), {
      term: 'P3D',
      officeHead: 'rossi',
    });
    const handle = instance.taskRef('handle');
    expect(ofType(instance.log, 'createTask')[0]!.task).toMatchObject({
      candidateOffices: ['protocollo'],
      dueAt: '2030-01-04T08:00:00.000Z',
    });
    instance.send({ type: 'triggerTimer', timerRef: instance.timerRef('daily-reminder') });
    instance.send({ type: 'triggerTimer', timerRef: instance.timerRef('daily-reminder') });
    expect(
      ofType(instance.log, 'scheduleTimer').filter((e) => e.elementId === 'daily-reminder'),
    ).toHaveLength(2);
    const effects = instance.send({
      type: 'triggerTimer',
      timerRef: instance.timerRef('deadline'),
    });
    expect(ofType(effects, 'cancelTask')).toEqual([{ type: 'cancelTask', taskRef: handle }]);
    expect(ofType(effects, 'createTask')[0]).toMatchObject({
      elementId: 'escalate',
      task: { assignee: 'rossi' },
    });
    instance.complete('escalate');
    const reminders = ofType(instance.log, 'createTask').filter((e) => e.elementId === 'remind');
    expect(reminders).toHaveLength(2);
    for (const reminder of reminders) {
      expect(instance.status).toBe('active');
      instance.send({ type: 'completeTask', taskRef: reminder.taskRef, variables: {} });
    }
    expect(instance.status).toBe('completed');
  });

  it('timer-escalation: handled in time, the timers are cancelled and a cool-down timer runs', async () => {
    const instance = await Instance.start(fixture('timer-escalation.bpmn'), {
      term: 'P3D',
      officeHead: 'rossi',
    });
    const effects = instance.complete('handle');
    expect(ofType(effects, 'cancelTimer')).toHaveLength(2);
    instance.send({ type: 'triggerTimer', timerRef: instance.timerRef('cool-down') });
    expect(instance.completed().at(-1)).toBe('handled');
  });

  it('connector-and-message: invokes the connector, then subscribes with its output as key', async () => {
    const instance = await Instance.start(fixture('connector-and-message.bpmn'), {
      sender: 'ente@pec.example.it',
      subject: 'Istanza',
    });
    const [invoke] = ofType(instance.log, 'invokeConnector');
    expect(invoke).toMatchObject({
      connectorType: 'pec.send',
      input: { to: 'ente@pec.example.it', subject: 'Re: Istanza' },
    });
    instance.send({
      type: 'connectorResult',
      jobRef: invoke!.jobRef,
      ok: true,
      output: { messageId: '<m1@pec>' },
    });
    const [subscribe] = ofType(instance.log, 'subscribe');
    expect(subscribe).toMatchObject({ messageName: 'pec.receipt', correlationKey: '<m1@pec>' });
    instance.send({
      type: 'triggerMessage',
      subscriptionRef: subscribe!.subscriptionRef,
      variables: { delivered: true },
    });
    expect(instance.status).toBe('completed');
  });

  it('invalid fixtures are refused with the expected problems', async () => {
    expect((await problemsOf(fixture('invalid/malformed.bpmn')))[0]!.reason).toMatch(
      /^malformed XML: /,
    );
    expect((await problemsOf(fixture('invalid/entity-expansion.bpmn')))[0]!.reason).toMatch(
      /DOCTYPE/,
    );
    expect((await problemsOf(fixture('invalid/unsupported.bpmn'))).map((p) => p.elementId)).toEqual(
      ['compute', 'review', 'f3'],
    );
  });
});
