import { describe, expect, it } from 'vitest';
import { diagram, flows, Instance, ofType } from './helpers.js';

function conditional(id: string, source: string, target: string, condition: string): string {
  return `<bpmn:sequenceFlow id="${id}" sourceRef="${source}" targetRef="${target}"><bpmn:conditionExpression>${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`;
}

describe('exclusive gateway', () => {
  const xml = diagram(`
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="amount" default="to-small" />
    <bpmn:userTask id="big" /><bpmn:userTask id="medium" /><bpmn:userTask id="small" />
    ${flows('start>amount')}
    ${conditional('to-big', 'amount', 'big', '=amount &gt; 1000')}
    ${conditional('to-medium', 'amount', 'medium', '=amount &gt; 100')}
    <bpmn:sequenceFlow id="to-small" sourceRef="amount" targetRef="small" />`);

  it('takes the first flow whose condition is true, in document order', async () => {
    const instance = await Instance.start(xml, { amount: 5000 });
    expect(instance.openTasks()).toEqual(['big']);
  });

  it('takes the default flow when no condition is true', async () => {
    const instance = await Instance.start(xml, { amount: 5 });
    expect(instance.openTasks()).toEqual(['small']);
  });

  it('raises an incident when nothing matches and there is no default; the token stays and a retry moves it', async () => {
    const noDefault = xml
      .replace(' default="to-small"', '')
      .replace('<bpmn:sequenceFlow id="to-small" sourceRef="amount" targetRef="small" />', '');
    const instance = await Instance.start(noDefault, { amount: 5 });
    const [incident] = ofType(instance.log, 'incident');
    expect(incident).toMatchObject({
      elementId: 'amount',
      incidentType: 'condition',
      message: 'no outgoing flow of amount has a true condition and there is no default flow',
    });
    expect(instance.status).toBe('active');
    expect(instance.completed()).toEqual(['start']);
    instance.send({
      type: 'retryIncident',
      incidentRef: incident!.incidentRef,
      variables: { amount: 500 },
    });
    expect(instance.openTasks()).toEqual(['medium']);
  });

  it('raises an expression incident when a condition cannot be evaluated, and a retry with the variable resolves it', async () => {
    const instance = await Instance.start(xml, {});
    const [incident] = ofType(instance.log, 'incident');
    expect(incident).toMatchObject({ elementId: 'amount', incidentType: 'expression' });
    expect(incident!.message).toMatch(/^condition of to-big: /);
    const effects = instance.send({
      type: 'retryIncident',
      incidentRef: incident!.incidentRef,
      variables: { amount: 2000 },
    });
    expect(ofType(effects, 'incidentResolved')).toHaveLength(1);
    expect(instance.openTasks()).toEqual(['big']);
  });

  it('refuses to retry an incident that is not open', async () => {
    const instance = await Instance.start(xml, { amount: 5 });
    expect(() => instance.send({ type: 'retryIncident', incidentRef: 'i99' })).toThrow(
      /incident i99 is not open/,
    );
  });

  it('takes exactly one flow even when several are unconditional', async () => {
    const twoWays = diagram(`
      <bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="gate" />
      <bpmn:userTask id="first" /><bpmn:userTask id="second" />
      ${flows('start>gate', 'gate>first', 'gate>second')}`);
    expect((await Instance.start(twoWays)).openTasks()).toEqual(['first']);
  });

  it('accepts ${variable} conditions from Camunda diagrams', async () => {
    const camunda = diagram(`
      <bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="gate" default="no" />
      <bpmn:endEvent id="yes-end" /><bpmn:endEvent id="no-end" />
      ${flows('start>gate')}
      <bpmn:sequenceFlow id="yes" sourceRef="gate" targetRef="yes-end"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${approved}</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="no" sourceRef="gate" targetRef="no-end" />`);
    expect((await Instance.start(camunda, { approved: true })).completed().at(-1)).toBe('yes-end');
    expect((await Instance.start(camunda, { approved: false })).completed().at(-1)).toBe('no-end');
  });

  it('accepts plain FEEL conditions when the language says FEEL', async () => {
    const plain = diagram(`
      <bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="gate" default="no" />
      <bpmn:endEvent id="yes-end" /><bpmn:endEvent id="no-end" />
      ${flows('start>gate')}
      <bpmn:sequenceFlow id="yes" sourceRef="gate" targetRef="yes-end"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="feel">count(items) &gt;= 2</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="no" sourceRef="gate" targetRef="no-end" />`);
    expect((await Instance.start(plain, { items: [1, 2] })).completed().at(-1)).toBe('yes-end');
    expect((await Instance.start(plain, { items: [1] })).completed().at(-1)).toBe('no-end');
  });
});

describe('parallel gateway', () => {
  const xml = diagram(`
    <bpmn:startEvent id="start" />
    <bpmn:parallelGateway id="fork" />
    <bpmn:userTask id="legal" /><bpmn:userTask id="finance" /><bpmn:userTask id="tech" />
    <bpmn:parallelGateway id="join" />
    <bpmn:userTask id="after" />
    ${flows('start>fork', 'fork>legal', 'fork>finance', 'fork>tech', 'legal>join', 'finance>join', 'tech>join', 'join>after')}`);

  it('forks a token per outgoing flow', async () => {
    const instance = await Instance.start(xml);
    expect(instance.openTasks()).toEqual(['finance', 'legal', 'tech']);
  });

  it('joins only when every incoming flow has delivered a token', async () => {
    const instance = await Instance.start(xml);
    instance.complete('legal');
    instance.complete('tech');
    expect(instance.openTasks()).toEqual(['finance']);
    expect(instance.completed()).not.toContain('join');
    instance.complete('finance');
    expect(instance.openTasks()).toEqual(['after']);
    expect(instance.completed().filter((id) => id === 'join')).toHaveLength(1);
  });
});

describe('inclusive gateway', () => {
  const xml = diagram(`
    <bpmn:startEvent id="start" />
    <bpmn:inclusiveGateway id="fork" default="to-archive" />
    <bpmn:userTask id="legal" /><bpmn:userTask id="finance" /><bpmn:userTask id="archive" />
    <bpmn:inclusiveGateway id="join" />
    <bpmn:userTask id="after" />
    ${flows('start>fork', 'legal>join', 'finance>join', 'archive>join', 'join>after')}
    ${conditional('to-legal', 'fork', 'legal', '=needsLegal')}
    ${conditional('to-finance', 'fork', 'finance', '=amount &gt; 100')}
    <bpmn:sequenceFlow id="to-archive" sourceRef="fork" targetRef="archive" />`);

  it('forks along every flow whose condition is true', async () => {
    const instance = await Instance.start(xml, { needsLegal: true, amount: 500 });
    expect(instance.openTasks()).toEqual(['finance', 'legal']);
  });

  it('takes the default flow when no condition is true', async () => {
    const instance = await Instance.start(xml, { needsLegal: false, amount: 5 });
    expect(instance.openTasks()).toEqual(['archive']);
  });

  it('joins when only 2 of 3 branches were taken, without waiting for the third', async () => {
    const instance = await Instance.start(xml, { needsLegal: true, amount: 500 });
    instance.complete('legal');
    expect(instance.openTasks()).toEqual(['finance']);
    expect(instance.completed()).not.toContain('join');
    instance.complete('finance');
    expect(instance.openTasks()).toEqual(['after']);
  });

  it('joins a single taken branch straight away', async () => {
    const instance = await Instance.start(xml, { needsLegal: false, amount: 500 });
    instance.complete('finance');
    expect(instance.openTasks()).toEqual(['after']);
  });

  it('fires once a branch that could still reach it ends elsewhere', async () => {
    const detour = diagram(`
      <bpmn:startEvent id="start" />
      <bpmn:parallelGateway id="fork" />
      <bpmn:userTask id="a" /><bpmn:userTask id="b" />
      <bpmn:exclusiveGateway id="b-choice" default="b-to-join" />
      <bpmn:endEvent id="b-gives-up" />
      <bpmn:inclusiveGateway id="join" />
      <bpmn:userTask id="after" />
      ${flows('start>fork', 'fork>a', 'fork>b', 'a>join', 'b>b-choice', 'join>after')}
      ${conditional('b-to-end', 'b-choice', 'b-gives-up', '=giveUp')}
      <bpmn:sequenceFlow id="b-to-join" sourceRef="b-choice" targetRef="join" />`);
    const instance = await Instance.start(detour);
    instance.complete('a');
    expect(instance.openTasks()).toEqual(['b']);
    instance.complete('b', { giveUp: true });
    expect(instance.openTasks()).toEqual(['after']);
  });
});
