import { describe, expect, it } from 'vitest';
import { CommandRejected } from '../../src/engine/index.js';
import { diagram, flows, Instance, ofType } from './helpers.js';

function timer(kind: 'timeDuration' | 'timeDate' | 'timeCycle', value: string): string {
  return `<bpmn:timerEventDefinition><bpmn:${kind} xsi:type="bpmn:tFormalExpression">${value}</bpmn:${kind}></bpmn:timerEventDefinition>`;
}

describe('message waits', () => {
  const xml = diagram(`
    <bpmn:startEvent id="start" />
    <bpmn:receiveTask id="await-reply" messageRef="msg-reply" pectrack:correlationKey="=caseId" />
    <bpmn:intermediateCatchEvent id="await-receipt" pectrack:correlationKey="=&quot;receipt-&quot; + caseId">
      <bpmn:messageEventDefinition messageRef="msg-reply" />
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end" />
    ${flows('start>await-reply', 'await-reply>await-receipt', 'await-receipt>end')}`);

  it('a receive task subscribes by message name and evaluated correlation key; the message merges variables', async () => {
    const instance = await Instance.start(xml, { caseId: 'C-7' });
    const [subscribe] = ofType(instance.log, 'subscribe');
    expect(subscribe).toEqual({
      type: 'subscribe',
      subscriptionRef: subscribe!.subscriptionRef,
      elementId: 'await-reply',
      messageName: 'pec.reply',
      correlationKey: 'C-7',
    });
    instance.send({
      type: 'triggerMessage',
      subscriptionRef: subscribe!.subscriptionRef,
      variables: { reply: 'yes' },
    });
    expect(instance.state!.variables).toEqual({ caseId: 'C-7', reply: 'yes' });
    expect(instance.completed()).toContain('await-reply');
  });

  it('an intermediate message catch event waits the same way', async () => {
    const instance = await Instance.start(xml, { caseId: 'C-7' });
    instance.send({
      type: 'triggerMessage',
      subscriptionRef: ofType(instance.log, 'subscribe')[0]!.subscriptionRef,
      variables: {},
    });
    const receipt = ofType(instance.log, 'subscribe')[1]!;
    expect(receipt).toMatchObject({
      elementId: 'await-receipt',
      messageName: 'pec.reply',
      correlationKey: 'receipt-C-7',
    });
    instance.send({
      type: 'triggerMessage',
      subscriptionRef: receipt.subscriptionRef,
      variables: { receipt: 'ok' },
    });
    expect(instance.status).toBe('completed');
  });

  it('a correlation key that cannot be evaluated becomes an incident; retry with the variable subscribes', async () => {
    const instance = await Instance.start(xml);
    const [incident] = ofType(instance.log, 'incident');
    expect(incident).toMatchObject({ elementId: 'await-reply', incidentType: 'expression' });
    expect(incident!.message).toMatch(
      /^correlation key of await-reply: Variable 'caseId' not found/,
    );
    expect(ofType(instance.log, 'subscribe')).toHaveLength(0);
    const effects = instance.send({
      type: 'retryIncident',
      incidentRef: incident!.incidentRef,
      variables: { caseId: 9 },
    });
    expect(ofType(effects, 'subscribe')[0]!.correlationKey).toBe('9');
  });

  it('rejects a message for a subscription the instance does not have', async () => {
    const instance = await Instance.start(xml, { caseId: 'C-7' });
    const attempt = () =>
      instance.send({ type: 'triggerMessage', subscriptionRef: 's404', variables: {} });
    expect(attempt).toThrow(CommandRejected);
    expect(attempt).toThrow(/subscription s404 is not open/);
  });
});

describe('intermediate timer catch event', () => {
  it('waits for a duration counted from now', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait">${timer('timeDuration', 'PT2H')}</bpmn:intermediateCatchEvent>
      <bpmn:endEvent id="end" />${flows('start>wait', 'wait>end')}`);
    const instance = await Instance.start(xml);
    expect(ofType(instance.log, 'scheduleTimer')).toEqual([
      {
        type: 'scheduleTimer',
        timerRef: instance.timerRef('wait'),
        elementId: 'wait',
        dueAt: '2030-01-01T10:00:00.000Z',
      },
    ]);
    instance.send({ type: 'triggerTimer', timerRef: instance.timerRef('wait') });
    expect(instance.status).toBe('completed');
  });

  it('waits until a date, literal or FEEL', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
      <bpmn:intermediateCatchEvent id="literal">${timer('timeDate', '2030-03-01T09:00:00Z')}</bpmn:intermediateCatchEvent>
      <bpmn:intermediateCatchEvent id="feel">${timer('timeDate', '=hearing')}</bpmn:intermediateCatchEvent>
      ${flows('start>fork', 'fork>literal', 'fork>feel')}`);
    const instance = await Instance.start(xml, { hearing: '2030-04-01T10:30:00+02:00' });
    expect(
      Object.fromEntries(
        ofType(instance.log, 'scheduleTimer').map((effect) => [effect.elementId, effect.dueAt]),
      ),
    ).toEqual({
      literal: '2030-03-01T09:00:00.000Z',
      feel: '2030-04-01T08:30:00.000Z',
    });
  });

  it('turns a FEEL timer that gives no date into an incident', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait">${timer('timeDuration', '=delay')}</bpmn:intermediateCatchEvent>
      <bpmn:endEvent id="end" />${flows('start>wait', 'wait>end')}`);
    const instance = await Instance.start(xml, { delay: 'later' });
    expect(ofType(instance.log, 'incident')[0]!.message).toBe(
      'timer of wait: invalid timer duration "later": expected an ISO 8601 duration such as PT1H or P3D',
    );
  });

  it('turns a duration that ends past the year 9999 into an incident, not a timer due at once', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait">${timer('timeDuration', '=delay')}</bpmn:intermediateCatchEvent>
      <bpmn:endEvent id="end" />${flows('start>wait', 'wait>end')}`);
    for (const delay of ['P8000Y', 'P999999999Y']) {
      const instance = await Instance.start(xml, { delay });
      expect(ofType(instance.log, 'scheduleTimer')).toEqual([]);
      expect(ofType(instance.log, 'incident')[0]!.message).toBe(
        `timer of wait: invalid timer duration "${delay}": expected a value that ends before the year 10000`,
      );
    }
  });
});

describe('timer boundary events', () => {
  const boundary = (interrupting: boolean, definition: string) =>
    diagram(`
      <bpmn:startEvent id="start" />
      <bpmn:userTask id="review" />
      <bpmn:boundaryEvent id="late" attachedToRef="review" cancelActivity="${interrupting}">${definition}</bpmn:boundaryEvent>
      <bpmn:userTask id="remind" />
      <bpmn:endEvent id="done" />
      ${flows('start>review', 'review>done', 'late>remind')}`);

  it('an interrupting timer cancels the task and takes the timer path', async () => {
    const instance = await Instance.start(boundary(true, timer('timeDuration', 'P3D')));
    const timerRef = instance.timerRef('late');
    expect(ofType(instance.log, 'scheduleTimer')[0]!.dueAt).toBe('2030-01-04T08:00:00.000Z');
    const taskRef = instance.taskRef('review');
    const effects = instance.send({ type: 'triggerTimer', timerRef });
    expect(ofType(effects, 'cancelTask')).toEqual([{ type: 'cancelTask', taskRef }]);
    expect(ofType(effects, 'cancelTimer')).toEqual([]);
    expect(
      ofType(effects, 'history').map((effect) => `${effect.event}:${effect.elementId}`),
    ).toEqual([
      'elementCancelled:review',
      'elementStarted:late',
      'elementCompleted:late',
      'elementStarted:remind',
    ]);
    expect(instance.openTasks()).toEqual(['remind']);
    expect(() => instance.send({ type: 'completeTask', taskRef, variables: {} })).toThrow(
      /task .* is not open/,
    );
  });

  it('is cancelled when its activity completes first', async () => {
    const instance = await Instance.start(boundary(true, timer('timeDuration', 'P3D')));
    const timerRef = instance.timerRef('late');
    const effects = instance.complete('review');
    expect(ofType(effects, 'cancelTimer')).toEqual([{ type: 'cancelTimer', timerRef }]);
    expect(instance.status).toBe('completed');
  });

  it('a non-interrupting timer forks a path and leaves the task open', async () => {
    const instance = await Instance.start(boundary(false, timer('timeDuration', 'P1D')));
    instance.send({ type: 'triggerTimer', timerRef: instance.timerRef('late') });
    expect(instance.openTasks()).toEqual(['remind', 'review']);
    instance.complete('remind');
    expect(instance.status).toBe('active');
    instance.complete('review');
    expect(instance.status).toBe('completed');
  });

  it('a non-interrupting cycle R3/PT1H fires three times, re-scheduling after each firing', async () => {
    const instance = await Instance.start(boundary(false, timer('timeCycle', 'R3/PT1H')));
    const dues: string[] = [];
    for (let firing = 0; firing < 3; firing += 1) {
      const scheduled = ofType(instance.log, 'scheduleTimer').at(-1)!;
      dues.push(scheduled.dueAt);
      instance.send({ type: 'triggerTimer', timerRef: scheduled.timerRef });
    }
    expect(dues).toEqual([
      '2030-01-01T09:00:00.000Z',
      '2030-01-01T10:00:00.000Z',
      '2030-01-01T11:00:00.000Z',
    ]);
    expect(ofType(instance.log, 'scheduleTimer')).toHaveLength(3);
    expect(
      ofType(instance.log, 'createTask').filter((effect) => effect.elementId === 'remind'),
    ).toHaveLength(3);
    const effects = instance.complete('review');
    expect(ofType(effects, 'cancelTimer')).toEqual([]);
  });

  it('an unbounded cycle keeps re-arming and is cancelled with its activity', async () => {
    const instance = await Instance.start(
      boundary(false, timer('timeCycle', 'R/2030-01-02T09:00:00Z/P1D')),
    );
    expect(ofType(instance.log, 'scheduleTimer')[0]!.dueAt).toBe('2030-01-02T09:00:00.000Z');
    instance.send({ type: 'triggerTimer', timerRef: instance.timerRef('late') });
    const next = ofType(instance.log, 'scheduleTimer')[1]!;
    expect(next.dueAt).toBe('2030-01-03T09:00:00.000Z');
    const effects = instance.complete('review');
    expect(ofType(effects, 'cancelTimer')).toEqual([
      { type: 'cancelTimer', timerRef: next.timerRef },
    ]);
  });

  it('a boundary timer that cannot be planned raises an incident before the activity runs; retry arms it', async () => {
    const instance = await Instance.start(boundary(true, timer('timeDuration', '=reminderAfter')));
    const [incident] = ofType(instance.log, 'incident');
    expect(incident).toMatchObject({ elementId: 'review', incidentType: 'expression' });
    expect(incident!.message).toMatch(/^timer of late: Variable 'reminderAfter' not found/);
    expect(ofType(instance.log, 'createTask')).toHaveLength(0);
    const effects = instance.send({
      type: 'retryIncident',
      incidentRef: incident!.incidentRef,
      variables: { reminderAfter: 'PT4H' },
    });
    expect(ofType(effects, 'scheduleTimer')[0]).toMatchObject({
      elementId: 'late',
      dueAt: '2030-01-01T12:00:00.000Z',
    });
    expect(ofType(effects, 'createTask')[0]).toMatchObject({ elementId: 'review' });
  });

  it('an interrupting timer on a receive task withdraws the subscription', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" />
      <bpmn:receiveTask id="await" messageRef="msg-reply" />
      <bpmn:boundaryEvent id="no-answer" attachedToRef="await">${timer('timeDuration', 'P10D')}</bpmn:boundaryEvent>
      <bpmn:endEvent id="answered" /><bpmn:endEvent id="silent" />
      ${flows('start>await', 'await>answered', 'no-answer>silent')}`);
    const instance = await Instance.start(xml);
    const subscription = ofType(instance.log, 'subscribe')[0]!.subscriptionRef;
    const effects = instance.send({
      type: 'triggerTimer',
      timerRef: instance.timerRef('no-answer'),
    });
    expect(ofType(effects, 'unsubscribe')).toEqual([
      { type: 'unsubscribe', subscriptionRef: subscription },
    ]);
    expect(instance.completed().at(-1)).toBe('silent');
    expect(instance.status).toBe('completed');
  });

  it('rejects a timer that was already cancelled', async () => {
    const instance = await Instance.start(boundary(true, timer('timeDuration', 'P3D')));
    const timerRef = instance.timerRef('late');
    instance.complete('review');
    expect(() => instance.send({ type: 'triggerTimer', timerRef })).toThrow(
      /instance has completed/,
    );
  });
});

describe('end events and cancellation', () => {
  const parallel = (end: string) =>
    diagram(`
      <bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
      <bpmn:userTask id="slow" /><bpmn:receiveTask id="await" messageRef="msg-reply" />
      <bpmn:userTask id="fast" />${end}
      ${flows('start>fork', 'fork>slow', 'fork>await', 'fork>fast', 'fast>stop')}`);

  it('a none end event ends only its token', async () => {
    const instance = await Instance.start(parallel('<bpmn:endEvent id="stop" />'));
    instance.complete('fast');
    expect(instance.status).toBe('active');
    expect(instance.openTasks()).toEqual(['slow']);
  });

  it('a terminate end event ends the whole instance, cancelling every other wait', async () => {
    const instance = await Instance.start(
      parallel('<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition /></bpmn:endEvent>'),
    );
    const slow = instance.taskRef('slow');
    const subscription = ofType(instance.log, 'subscribe')[0]!.subscriptionRef;
    const effects = instance.complete('fast');
    expect(ofType(effects, 'cancelTask')).toEqual([{ type: 'cancelTask', taskRef: slow }]);
    expect(ofType(effects, 'unsubscribe')).toEqual([
      { type: 'unsubscribe', subscriptionRef: subscription },
    ]);
    expect(ofType(effects, 'ended')).toEqual([{ type: 'ended', status: 'completed' }]);
    expect(instance.state).toMatchObject({ status: 'completed', tokens: [] });
  });

  it('cancel withdraws tasks, timers and subscriptions and ends the instance terminated', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
      <bpmn:userTask id="review" /><bpmn:boundaryEvent id="late" attachedToRef="review">${timer('timeDuration', 'P1D')}</bpmn:boundaryEvent>
      <bpmn:receiveTask id="await" messageRef="msg-reply" />
      <bpmn:intermediateCatchEvent id="wait">${timer('timeDuration', 'PT1H')}</bpmn:intermediateCatchEvent>
      ${flows('start>fork', 'fork>review', 'fork>await', 'fork>wait')}`);
    const instance = await Instance.start(xml);
    const effects = instance.send({ type: 'cancel', reason: 'withdrawn by the applicant' });
    expect(ofType(effects, 'cancelTask')).toEqual([
      { type: 'cancelTask', taskRef: instance.taskRef('review') },
    ]);
    expect(
      ofType(effects, 'cancelTimer')
        .map((effect) => effect.timerRef)
        .sort(),
    ).toEqual([instance.timerRef('late'), instance.timerRef('wait')].sort());
    expect(ofType(effects, 'unsubscribe')).toHaveLength(1);
    expect(ofType(effects, 'history').at(-1)).toEqual({
      type: 'history',
      event: 'processTerminated',
      elementId: 'p',
      elementType: 'process',
      data: { reason: 'withdrawn by the applicant' },
    });
    expect(effects.at(-1)).toEqual({ type: 'ended', status: 'terminated' });
    expect(instance.status).toBe('terminated');
    const again = () => instance.send({ type: 'cancel', reason: 'twice' });
    expect(again).toThrow(CommandRejected);
    expect(again).toThrow(/instance has terminated/);
  });
});
