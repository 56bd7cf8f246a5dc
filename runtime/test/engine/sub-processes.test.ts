import { describe, expect, it } from 'vitest';
import { diagram, flows, Instance, ofType } from './helpers.js';

const nested = diagram(`
  <bpmn:startEvent id="start" />
  <bpmn:subProcess id="outer">
    <bpmn:startEvent id="outer-start" />
    <bpmn:userTask id="register" />
    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="inner-start" />
      <bpmn:parallelGateway id="inner-fork" />
      <bpmn:userTask id="check-a" /><bpmn:userTask id="check-b" />
      <bpmn:endEvent id="inner-end-a" /><bpmn:endEvent id="inner-end-b" />
      ${flows('inner-start>inner-fork', 'inner-fork>check-a', 'inner-fork>check-b', 'check-a>inner-end-a', 'check-b>inner-end-b')}
    </bpmn:subProcess>
    <bpmn:endEvent id="outer-end" />
    ${flows('outer-start>register', 'register>inner', 'inner>outer-end')}
  </bpmn:subProcess>
  <bpmn:boundaryEvent id="deadline" attachedToRef="outer">
    <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P30D</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="archive" />
  <bpmn:userTask id="escalate" />
  ${flows('start>outer', 'outer>archive', 'deadline>escalate')}`);

describe('embedded sub-processes', () => {
  it('runs nested sub-processes in their own scopes and continues the parent when each completes', async () => {
    const instance = await Instance.start(nested);
    expect(instance.openTasks()).toEqual(['register']);
    instance.complete('register');
    expect(instance.openTasks()).toEqual(['check-a', 'check-b']);
    instance.complete('check-a');
    expect(instance.completed()).not.toContain('inner');
    instance.complete('check-b');
    expect(instance.completed()).toEqual(
      expect.arrayContaining(['inner-end-a', 'inner-end-b', 'inner', 'outer-end', 'outer']),
    );
    const order = instance.completed();
    expect(order.indexOf('inner')).toBeLessThan(order.indexOf('outer-end'));
    expect(order.indexOf('outer-end')).toBeLessThan(order.indexOf('outer'));
    expect(instance.openTasks()).toEqual(['archive']);
  });

  it('a boundary timer on a sub-process cancels everything inside, at every depth', async () => {
    const instance = await Instance.start(nested);
    instance.complete('register');
    const checkA = instance.taskRef('check-a');
    const checkB = instance.taskRef('check-b');
    const effects = instance.send({
      type: 'triggerTimer',
      timerRef: instance.timerRef('deadline'),
    });
    expect(
      ofType(effects, 'cancelTask')
        .map((effect) => effect.taskRef)
        .sort(),
    ).toEqual([checkA, checkB].sort());
    const cancelled = ofType(effects, 'history')
      .filter((effect) => effect.event === 'elementCancelled')
      .map((effect) => effect.elementId);
    expect(cancelled.sort()).toEqual(['check-a', 'check-b', 'inner', 'outer']);
    expect(instance.openTasks()).toEqual(['escalate']);
    expect(instance.completed()).not.toContain('outer');
  });

  it('cancels the sub-process timer when the sub-process completes', async () => {
    const instance = await Instance.start(nested);
    instance.complete('register');
    instance.complete('check-a');
    const effects = instance.complete('check-b');
    expect(ofType(effects, 'cancelTimer')).toEqual([
      { type: 'cancelTimer', timerRef: instance.timerRef('deadline') },
    ]);
  });

  it('a terminate end event inside a sub-process ends only that sub-process', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
      <bpmn:subProcess id="sub">
        <bpmn:startEvent id="sub-start" /><bpmn:parallelGateway id="sub-fork" />
        <bpmn:userTask id="inside-slow" /><bpmn:userTask id="inside-fast" />
        <bpmn:endEvent id="sub-terminate"><bpmn:terminateEventDefinition /></bpmn:endEvent>
        ${flows('sub-start>sub-fork', 'sub-fork>inside-slow', 'sub-fork>inside-fast', 'inside-fast>sub-terminate')}
      </bpmn:subProcess>
      <bpmn:userTask id="outside" /><bpmn:userTask id="after-sub" />
      ${flows('start>fork', 'fork>sub', 'fork>outside', 'sub>after-sub')}`);
    const instance = await Instance.start(xml);
    expect(instance.openTasks()).toEqual(['inside-fast', 'inside-slow', 'outside']);
    const effects = instance.complete('inside-fast');
    expect(ofType(effects, 'cancelTask')).toEqual([
      { type: 'cancelTask', taskRef: instance.taskRef('inside-slow') },
    ]);
    expect(instance.openTasks()).toEqual(['after-sub', 'outside']);
    expect(instance.status).toBe('active');
  });

  it('an inclusive join inside a sub-process only counts tokens of its own scope', async () => {
    const xml = diagram(`
      <bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
      <bpmn:userTask id="outside" />
      <bpmn:subProcess id="sub">
        <bpmn:startEvent id="sub-start" /><bpmn:inclusiveGateway id="split" />
        <bpmn:userTask id="a" /><bpmn:userTask id="b" /><bpmn:inclusiveGateway id="merge" /><bpmn:endEvent id="sub-end" />
        ${flows('sub-start>split', 'split>a', 'a>merge', 'b>merge', 'merge>sub-end')}
        <bpmn:sequenceFlow id="split-b" sourceRef="split" targetRef="b"><bpmn:conditionExpression>=withB</bpmn:conditionExpression></bpmn:sequenceFlow>
      </bpmn:subProcess>
      <bpmn:userTask id="after" />
      ${flows('start>fork', 'fork>outside', 'fork>sub', 'sub>after')}`);
    const instance = await Instance.start(xml, { withB: false });
    instance.complete('a');
    expect(instance.openTasks()).toEqual(['after', 'outside']);
  });
});
