import { describe, expect, it } from 'vitest';
import { diagram, fixture, flows, Instance, NOW, ofType } from './helpers.js';

describe('user tasks and the simple approval', () => {
  it('creates the review task for demo and waits', async () => {
    const instance = await Instance.start(fixture('simple-approval.bpmn'));
    expect(ofType(instance.log, 'createTask')).toEqual([
      {
        type: 'createTask',
        taskRef: instance.taskRef('review'),
        elementId: 'review',
        task: {
          kind: 'user',
          name: 'Review the request',
          assignee: 'demo',
          candidateUsers: [],
          candidateOffices: [],
          dueAt: null,
          priority: 50,
          formKey: null,
        },
      },
    ]);
    expect(instance.status).toBe('active');
  });

  it('ends at "approved" when the reviewer approves', async () => {
    const instance = await Instance.start(fixture('simple-approval.bpmn'));
    const effects = instance.complete('review', { approved: true });
    expect(instance.completed()).toEqual(['start', 'review', 'decision', 'approved']);
    expect(ofType(effects, 'ended')).toEqual([{ type: 'ended', status: 'completed' }]);
    expect(instance.state).toMatchObject({ status: 'completed', variables: { approved: true } });
  });

  it('takes the default flow to "rejected" otherwise', async () => {
    const instance = await Instance.start(fixture('simple-approval.bpmn'));
    instance.complete('review', { approved: false });
    expect(instance.completed()).toEqual(['start', 'review', 'decision', 'rejected']);
    expect(instance.status).toBe('completed');
  });

  it('emits the history the shell writes as the timeline', async () => {
    const instance = await Instance.start(fixture('simple-approval.bpmn'));
    instance.complete('review', { approved: true });
    const history = ofType(instance.log, 'history').map(
      (effect) => `${effect.event}:${effect.elementId}:${effect.elementType}`,
    );
    expect(history).toEqual([
      'processStarted:simple-approval:process',
      'elementStarted:start:startEvent',
      'elementCompleted:start:startEvent',
      'elementStarted:review:userTask',
      'variablesChanged:simple-approval:process',
      'elementCompleted:review:userTask',
      'elementStarted:decision:exclusiveGateway',
      'elementCompleted:decision:exclusiveGateway',
      'elementStarted:approved:endEvent',
      'elementCompleted:approved:endEvent',
      'processCompleted:simple-approval:process',
    ]);
  });

  it('reads Camunda 7 attributes: assignee, candidate groups as offices, due date, priority, form key', async () => {
    const instance = await Instance.start(fixture('camunda-modeler-approval.bpmn'));
    expect(ofType(instance.log, 'createTask')[0]!.task).toEqual({
      kind: 'user',
      name: 'Review',
      assignee: 'demo',
      candidateUsers: ['anna', 'marco'],
      candidateOffices: ['protocollo', 'ragioneria'],
      dueAt: '2030-01-04T08:00:00.000Z',
      priority: 70,
      formKey: 'embedded:app:forms/review.html',
    });
    instance.complete('Task_review', { approved: true });
    expect(instance.completed().at(-1)).toBe('Event_approved');
  });

  it('evaluates FEEL assignment attributes against the variables', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" />
      <bpmn:userTask id="review" pectrack:assignee="=owner" pectrack:candidateOffices="=offices"
        pectrack:candidateUsers="anna, marco" pectrack:dueDate="=deadline" pectrack:priority="=if urgent then 90 else 10" pectrack:formKey="review-form" />
      <bpmn:endEvent id="end" />
      ${flows('start>review', 'review>end')}`);
    const instance = await Instance.start(xml, {
      owner: 'giulia',
      offices: ['protocollo'],
      deadline: 'P2DT4H',
      urgent: true,
    });
    expect(ofType(instance.log, 'createTask')[0]!.task).toMatchObject({
      assignee: 'giulia',
      candidateUsers: ['anna', 'marco'],
      candidateOffices: ['protocollo'],
      dueAt: '2030-01-03T12:00:00.000Z',
      priority: 90,
      formKey: 'review-form',
    });
  });

  it('evaluates FEEL now() at the step instant, never at the wall clock', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" />
      <bpmn:userTask id="review" pectrack:dueDate="=now() + duration(&quot;P1D&quot;)" />
      <bpmn:endEvent id="end" />
      ${flows('start>review', 'review>end')}`);
    const first = await Instance.start(xml);
    expect(ofType(first.log, 'createTask')[0]!.task.dueAt).toBe('2030-01-02T08:00:00.000Z');
    const later = new Instance(first.process);
    later.now = new Date('2031-06-01T00:00:00.000Z');
    later.send({ type: 'start', variables: {} });
    expect(ofType(later.log, 'createTask')[0]!.task.dueAt).toBe('2031-06-02T00:00:00.000Z');
  });

  it('creates manual tasks too and passes through plain tasks', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:task id="note" /><bpmn:manualTask id="sign" name="Sign the paper" /><bpmn:endEvent id="end" />
      ${flows('start>note', 'note>sign', 'sign>end')}`);
    const instance = await Instance.start(xml);
    expect(ofType(instance.log, 'createTask')[0]).toMatchObject({
      elementId: 'sign',
      task: { kind: 'manual', name: 'Sign the paper' },
    });
    instance.complete('sign');
    expect(instance.completed()).toEqual(['start', 'note', 'sign', 'end']);
  });

  it('turns a FEEL error in a due date into an incident that a retry resolves', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:userTask id="review" pectrack:dueDate="=deadline" /><bpmn:endEvent id="end" />
      ${flows('start>review', 'review>end')}`);
    const instance = await Instance.start(xml, { deadline: 'soon' });
    const [incident] = ofType(instance.log, 'incident');
    expect(incident).toMatchObject({ elementId: 'review', incidentType: 'expression' });
    expect(incident!.message).toMatch(
      /due date must be an ISO 8601 duration or date-time ending before the year 10000, got "soon"/,
    );
    // A duration past what a database holds is no due date either (it was stored as none).
    const far = await Instance.start(xml, { deadline: 'P999999999Y' });
    expect(ofType(far.log, 'incident')[0]!.message).toMatch(/got "P999999999Y"/);
    expect(ofType(far.log, 'createTask')).toHaveLength(0);
    expect(ofType(instance.log, 'createTask')).toHaveLength(0);
    expect(instance.status).toBe('active');

    const unchanged = instance.send({ type: 'retryIncident', incidentRef: incident!.incidentRef });
    const [again] = ofType(unchanged, 'incident');
    expect(again).toMatchObject({ elementId: 'review', incidentType: 'expression' });

    const fixed = instance.send({
      type: 'retryIncident',
      incidentRef: again!.incidentRef,
      variables: { deadline: 'P1D' },
    });
    expect(ofType(fixed, 'incidentResolved')).toEqual([
      { type: 'incidentResolved', incidentRef: again!.incidentRef },
    ]);
    expect(ofType(fixed, 'createTask')[0]!.task.dueAt).toBe('2030-01-02T08:00:00.000Z');
    expect(
      ofType(instance.log, 'history').filter(
        (effect) => effect.event === 'elementStarted' && effect.elementId === 'review',
      ),
    ).toHaveLength(1);
  });
});

const connectorDiagram = diagram(`
  <bpmn:startEvent id="start" />
  <bpmn:serviceTask id="notify">
    <bpmn:extensionElements>
      <pectrack:connector type="email">
        <pectrack:input source="=recipient" target="to" />
        <pectrack:input source="=&quot;Case &quot; + caseNumber" target="subject" />
        <pectrack:output source="=messageId" target="notificationId" />
      </pectrack:connector>
    </bpmn:extensionElements>
  </bpmn:serviceTask>
  <bpmn:sendTask id="reply">
    <bpmn:extensionElements><pectrack:connector type="pec" /></bpmn:extensionElements>
  </bpmn:sendTask>
  <bpmn:endEvent id="end" />
  ${flows('start>notify', 'notify>reply', 'reply>end')}`);

describe('service and send tasks', () => {
  it('invokes the connector with mapped input and applies the output mapping on success', async () => {
    const instance = await Instance.start(connectorDiagram, {
      recipient: 'a@example.it',
      caseNumber: '42',
    });
    const [invoke] = ofType(instance.log, 'invokeConnector');
    expect(invoke).toEqual({
      type: 'invokeConnector',
      jobRef: invoke!.jobRef,
      elementId: 'notify',
      connectorType: 'email',
      input: { to: 'a@example.it', subject: 'Case 42' },
    });
    instance.send({
      type: 'connectorResult',
      jobRef: invoke!.jobRef,
      ok: true,
      output: { messageId: 'm-1', extra: 'x' },
    });
    expect(instance.state!.variables).toEqual({
      recipient: 'a@example.it',
      caseNumber: '42',
      notificationId: 'm-1',
    });
    const send = ofType(instance.log, 'invokeConnector')[1]!;
    expect(send).toMatchObject({
      elementId: 'reply',
      connectorType: 'pec',
      input: instance.state!.variables,
    });
    instance.send({
      type: 'connectorResult',
      jobRef: send.jobRef,
      ok: true,
      output: { sent: true },
    });
    expect(instance.state).toMatchObject({ status: 'completed', variables: { sent: true } });
  });

  it('raises a connector incident on failure and re-invokes the same call on retry', async () => {
    const instance = await Instance.start(connectorDiagram, {
      recipient: 'a@example.it',
      caseNumber: '42',
    });
    const first = ofType(instance.log, 'invokeConnector')[0]!;
    instance.send({
      type: 'connectorResult',
      jobRef: first.jobRef,
      ok: false,
      error: 'SMTP 554 rejected',
    });
    const [incident] = ofType(instance.log, 'incident');
    expect(incident).toMatchObject({
      elementId: 'notify',
      incidentType: 'connector',
      message: 'SMTP 554 rejected',
    });
    const retried = instance.send({ type: 'retryIncident', incidentRef: incident!.incidentRef });
    expect(retried[0]).toEqual({ type: 'incidentResolved', incidentRef: incident!.incidentRef });
    const second = ofType(retried, 'invokeConnector')[0]!;
    // The same call again, so under the same idempotency key: a send the provider took after
    // all (its answer lost) is not certified twice.
    expect(second.jobRef).toBe(first.jobRef);
    expect(second.input).toEqual(first.input);
  });

  it('raises an incident for a failing input mapping; a retry after the fix invokes', async () => {
    const instance = await Instance.start(connectorDiagram, { recipient: 'a@example.it' });
    const [incident] = ofType(instance.log, 'incident');
    expect(incident).toMatchObject({ elementId: 'notify', incidentType: 'expression' });
    expect(incident!.message).toMatch(/^input mapping of notify: subject: /);
    expect(ofType(instance.log, 'invokeConnector')).toHaveLength(0);
    const stillFailing = instance.send({
      type: 'retryIncident',
      incidentRef: incident!.incidentRef,
    });
    const [again] = ofType(stillFailing, 'incident');
    expect(again).toMatchObject({ elementId: 'notify', incidentType: 'expression' });
    const fixed = instance.send({
      type: 'retryIncident',
      incidentRef: again!.incidentRef,
      variables: { caseNumber: '7' },
    });
    expect(ofType(fixed, 'invokeConnector')[0]!.input).toEqual({
      to: 'a@example.it',
      subject: 'Case 7',
    });
  });

  it('keeps the output of a failing output mapping and applies it on retry', async () => {
    const instance = await Instance.start(connectorDiagram, {
      recipient: 'a@example.it',
      caseNumber: '42',
    });
    const invoke = ofType(instance.log, 'invokeConnector')[0]!;
    instance.send({
      type: 'connectorResult',
      jobRef: invoke.jobRef,
      ok: true,
      output: { other: 1 },
    });
    const [incident] = ofType(instance.log, 'incident');
    expect(incident!.message).toMatch(
      /^output mapping of notify: notificationId: Variable 'messageId' not found/,
    );
    expect(instance.state!.variables).not.toHaveProperty('notificationId');
    expect(() =>
      instance.send({ type: 'connectorResult', jobRef: invoke.jobRef, ok: true, output: {} }),
    ).toThrow(/not open/);
    const fixed = instance.send({
      type: 'retryIncident',
      incidentRef: incident!.incidentRef,
      variables: { messageId: 'from-retry' },
    });
    expect(ofType(fixed, 'invokeConnector')[0]!.elementId).toBe('reply');
    expect(instance.state!.variables).toMatchObject({ notificationId: 'from-retry' });
    expect(instance.state!.variables).not.toHaveProperty('other');
  });
});

describe('due dates from literals', () => {
  it('counts an ISO duration from now and keeps an ISO date as is', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" />
      <bpmn:parallelGateway id="fork" />
      <bpmn:userTask id="by-duration" pectrack:dueDate="PT36H" />
      <bpmn:userTask id="by-date" pectrack:dueDate="2030-02-01T12:00:00+01:00" />
      ${flows('start>fork', 'fork>by-duration', 'fork>by-date')}`);
    const instance = await Instance.start(xml);
    const dueAt = Object.fromEntries(
      ofType(instance.log, 'createTask').map((effect) => [effect.elementId, effect.task.dueAt]),
    );
    expect(NOW.toISOString()).toBe('2030-01-01T08:00:00.000Z');
    expect(dueAt).toEqual({
      'by-duration': '2030-01-02T20:00:00.000Z',
      'by-date': '2030-02-01T11:00:00.000Z',
    });
  });
});
