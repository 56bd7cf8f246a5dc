import { describe, expect, it } from 'vitest';
import { compile } from '../../src/engine/index.js';
import { diagram, fixture, flows, problemsOf } from './helpers.js';

const startToEnd = `<bpmn:startEvent id="start" /><bpmn:endEvent id="end" />${flows('start>end')}`;

describe('compile: accepted diagrams', () => {
  it('compiles simple-approval into one process keyed by its id', async () => {
    const result = await compile(fixture('simple-approval.bpmn'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.processes.map((process) => [process.id, process.name])).toEqual([
      ['simple-approval', 'Simple approval'],
    ]);
    expect([...result.processes[0]!.nodes.keys()].sort()).toEqual([
      'approved',
      'decision',
      'rejected',
      'review',
      'start',
    ]);
  });

  it('deploys a Camunda Modeler diagram unchanged (camunda: attributes, lanes, DI, annotations)', async () => {
    const result = await compile(fixture('camunda-modeler-approval.bpmn'));
    expect(result).toMatchObject({ ok: true, processes: [{ id: 'camunda-approval' }] });
  });

  it('ignores what carries no execution semantics: groups, categories, annotations, documentation', async () => {
    const xml = diagram(`
      <bpmn:documentation>How requests are handled</bpmn:documentation>
      <bpmn:startEvent id="start"><bpmn:documentation>A request arrives</bpmn:documentation></bpmn:startEvent>
      <bpmn:endEvent id="end" />
      ${flows('start>end')}
      <bpmn:group id="group" categoryValueRef="phase-intake" />
      <bpmn:textAnnotation id="note"><bpmn:text>Intake</bpmn:text></bpmn:textAnnotation>
      <bpmn:association id="link" sourceRef="start" targetRef="note" />`).replace(
      '<bpmn:process id="p"',
      '<bpmn:category id="phases"><bpmn:categoryValue id="phase-intake" value="Intake" /></bpmn:category><bpmn:process id="p"',
    );
    const result = await compile(xml);
    expect(result.ok && [...result.processes[0]!.nodes.keys()]).toEqual(['start', 'end']);
  });

  it('skips processes that are not executable and compiles the executable ones', async () => {
    const xml = diagram(startToEnd).replace(
      '<bpmn:process id="p"',
      '<bpmn:process id="pool" isExecutable="false"><bpmn:scriptTask id="ignored" /></bpmn:process><bpmn:process id="p"',
    );
    const result = await compile(xml);
    expect(result.ok && result.processes.map((process) => process.id)).toEqual(['p']);
  });

  it('freezes the compiled graph so that instances cannot change it', async () => {
    const result = await compile(fixture('simple-approval.bpmn'));
    const review = result.ok ? result.processes[0]!.nodes.get('review')! : null;
    expect(Object.isFrozen(review)).toBe(true);
    expect(Object.isFrozen(review!.outgoing)).toBe(true);
  });
});

describe('compile: problems', () => {
  it('reports malformed XML with where it broke', async () => {
    const problems = await problemsOf(
      '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p">',
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ elementId: '', type: 'document' });
    expect(problems[0]!.reason).toMatch(/^malformed XML: .*line 1, column \d+/);
  });

  it('reports a document that is not BPMN', async () => {
    const problems = await problemsOf('<html><body/></html>');
    expect(problems[0]).toMatchObject({ elementId: '', type: 'document' });
    expect(problems[0]!.reason).toMatch(
      /^malformed XML: failed to parse document as <bpmn:Definitions>/,
    );
  });

  it('refuses a DOCTYPE before parsing', async () => {
    const xml = diagram(startToEnd).replace(
      '<bpmn:definitions',
      '<!DOCTYPE bpmn:definitions>\n<bpmn:definitions',
    );
    expect(await problemsOf(xml)).toEqual([
      {
        elementId: '',
        type: 'document',
        reason: 'XML DOCTYPE declarations are not allowed in a BPMN diagram',
      },
    ]);
  });

  it('refuses entity declarations and never expands them', async () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p" name="&lol2;" /></bpmn:definitions>`;
    const problems = await problemsOf(bomb);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toMatch(/DOCTYPE declarations are not allowed/);
    const entityOnly = diagram(startToEnd).replace(
      '<bpmn:definitions',
      '<!ENTITY x "y"><bpmn:definitions',
    );
    expect((await problemsOf(entityOnly))[0]!.reason).toBe(
      'XML ENTITY declarations are not allowed in a BPMN diagram',
    );
  });

  it('reports a diagram without an executable process', async () => {
    const problems = await problemsOf(
      diagram(startToEnd, '').replace('isExecutable="true"', 'isExecutable="false"'),
    );
    expect(problems).toEqual([
      {
        elementId: 'defs',
        type: 'definitions',
        reason: 'the diagram has no executable process: set isExecutable="true" on a <process>',
      },
    ]);
  });

  it('reports every unsupported element at once: script task, complex gateway, signal events, unknown tags', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:scriptTask id="script" scriptFormat="javascript"><bpmn:script>1</bpmn:script></bpmn:scriptTask>
        <bpmn:complexGateway id="complex" />
        <bpmn:intermediateCatchEvent id="signal-catch"><bpmn:signalEventDefinition /></bpmn:intermediateCatchEvent>
        <bpmn:boundaryEvent id="error-boundary" attachedToRef="script"><bpmn:errorEventDefinition /></bpmn:boundaryEvent>
        <bpmn:startEvent id="signal-start"><bpmn:signalEventDefinition /></bpmn:startEvent>
        <bpmn:fancyTask id="fancy" />
        <bpmn:endEvent id="end" />
        ${flows('start>end')}`),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          elementId: 'script',
          type: 'scriptTask',
          reason:
            'scriptTask is not supported: the engine never runs scripts; use a service task with a pectrack:connector',
        },
        {
          elementId: 'complex',
          type: 'complexGateway',
          reason: 'complexGateway is not supported by the engine',
        },
        {
          elementId: 'signal-catch',
          type: 'intermediateCatchEvent',
          reason:
            'signalEventDefinition is not supported here: an intermediate catch event must be a message or timer event',
        },
        {
          elementId: 'error-boundary',
          type: 'boundaryEvent',
          reason:
            'errorEventDefinition is not supported here: only timer boundary events are supported',
        },
        {
          elementId: 'signal-start',
          type: 'startEvent',
          reason:
            'signalEventDefinition is not supported here: only none start events are supported',
        },
        {
          elementId: 'fancy',
          type: 'fancyTask',
          reason: 'unknown element <bpmn:fancyTask>: the engine does not execute it',
        },
      ]),
    );
  });

  it('refuses JUEL and JavaScript but accepts ${variable} references', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:userTask id="review" camunda:assignee="\${initiator}" camunda:dueDate="\${dateTime().plusDays(3)}" />
        <bpmn:exclusiveGateway id="gate" />
        <bpmn:endEvent id="end" />
        ${flows('start>review', 'review>gate')}
        <bpmn:sequenceFlow id="juel" sourceRef="gate" targetRef="end">
          <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${amount > 100}</bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="script" sourceRef="gate" targetRef="end">
          <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">amount > 100</bpmn:conditionExpression>
        </bpmn:sequenceFlow>`),
    );
    expect(problems).toEqual([
      {
        elementId: 'review',
        type: 'userTask',
        reason:
          'dueDate: JUEL expressions are not supported: use FEEL, e.g. "=amount > 100" (only ${variable} references are accepted)',
      },
      {
        elementId: 'juel',
        type: 'sequenceFlow',
        reason:
          'JUEL expressions are not supported: use FEEL, e.g. "=amount > 100" (only ${variable} references are accepted)',
      },
      {
        elementId: 'script',
        type: 'sequenceFlow',
        reason: 'expression language "javascript" is not supported: use FEEL',
      },
    ]);
  });

  it('reports unsupported attributes: foreign namespaces, Camunda execution attributes, non-default BPMN attributes', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" camunda:initiator="starter" />
        <bpmn:userTask id="review" camunda:asyncBefore="true" xmlns:acme="http://acme.example/bpmn" acme:color="red" />
        <bpmn:manualTask id="sign" startQuantity="2" />
        <bpmn:endEvent id="end" />
        ${flows('start>review', 'review>sign', 'sign>end')}`),
    );
    expect(problems).toEqual([
      {
        elementId: 'start',
        type: 'startEvent',
        reason:
          'attribute "camunda:initiator" is not supported on startEvent: the engine does not execute it',
      },
      {
        elementId: 'review',
        type: 'userTask',
        reason:
          'attribute "camunda:asyncBefore" is not supported on userTask: the engine does not execute it',
      },
      {
        elementId: 'review',
        type: 'userTask',
        reason:
          'attribute "acme:color" is not supported on userTask: the engine does not execute it',
      },
      {
        elementId: 'sign',
        type: 'manualTask',
        reason: '"startQuantity" is not supported on manualTask: the engine does not execute it',
      },
    ]);
  });

  it('reports pectrack attributes that do not exist or sit on the wrong element', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:userTask id="review" pectrack:colour="red" />
        <bpmn:serviceTask id="notify" pectrack:assignee="demo">
          <bpmn:extensionElements><pectrack:connector type="email" /></bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:userTask id="sign"><bpmn:extensionElements><pectrack:connector type="email" /></bpmn:extensionElements></bpmn:userTask>
        <bpmn:endEvent id="end" />
        ${flows('start>review', 'review>notify', 'notify>sign', 'sign>end')}`),
    );
    expect(problems).toEqual([
      {
        elementId: 'review',
        type: 'userTask',
        reason:
          'attribute "pectrack:colour" is not supported on userTask: the engine does not execute it',
      },
      {
        elementId: 'notify',
        type: 'serviceTask',
        reason:
          'attribute "pectrack:assignee" is not supported on serviceTask: the engine does not execute it',
      },
      {
        elementId: 'sign',
        type: 'userTask',
        reason:
          'extension element <pectrack:Connector> is not supported here: the engine does not execute it',
      },
    ]);
  });

  it('reports connector mappings without a target or with JUEL, and message waits without a message', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:serviceTask id="notify">
          <bpmn:extensionElements>
            <pectrack:connector type="email">
              <pectrack:input source="=recipient" />
              <pectrack:output source="\${result.id}" target="resultId" />
            </pectrack:connector>
          </bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:receiveTask id="await" />
        <bpmn:endEvent id="end" />
        ${flows('start>notify', 'notify>await', 'await>end')}`),
    );
    expect(problems).toEqual([
      {
        elementId: 'notify',
        type: 'serviceTask',
        reason: 'pectrack:input needs a target variable name, got ""',
      },
      {
        elementId: 'notify',
        type: 'serviceTask',
        reason:
          'pectrack:output resultId: JUEL expressions are not supported: use FEEL, e.g. "=amount > 100" (only ${variable} references are accepted)',
      },
      {
        elementId: 'await',
        type: 'receiveTask',
        reason: 'a message wait needs a messageRef to a <bpmn:message> with a name',
      },
    ]);
  });

  it('keys a connector by type, or by type:action when a template bound the action', async () => {
    const result = await compile(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:serviceTask id="upper">
          <bpmn:extensionElements><pectrack:connector type="pectrack:text" action="upper" /></bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:sendTask id="lower">
          <bpmn:extensionElements><pectrack:connector type=" pectrack:text:lower " /></bpmn:extensionElements>
        </bpmn:sendTask>
        <bpmn:endEvent id="end" />
        ${flows('start>upper', 'upper>lower', 'lower>end')}`),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const nodes = result.processes[0]!.nodes;
    expect(nodes.get('upper')?.connector?.type).toBe('pectrack:text:upper');
    expect(nodes.get('lower')?.connector?.type).toBe('pectrack:text:lower');
  });

  it('reports a blank connector action and attributes pectrack:connector does not have', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:serviceTask id="blank">
          <bpmn:extensionElements><pectrack:connector type="pectrack:text" action=" " /></bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:serviceTask id="spaced">
          <bpmn:extensionElements><pectrack:connector type="pectrack:text" action="to upper" /></bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:serviceTask id="retries">
          <bpmn:extensionElements><pectrack:connector type="pectrack:text" retries="3" /></bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:endEvent id="end" />
        ${flows('start>blank', 'blank>spaced', 'spaced>retries', 'retries>end')}`),
    );
    expect(problems).toEqual([
      {
        elementId: 'blank',
        type: 'serviceTask',
        reason:
          "pectrack:connector action is empty: name one of the connector's actions or leave it out",
      },
      {
        elementId: 'spaced',
        type: 'serviceTask',
        reason: 'pectrack:connector action "to upper" contains spaces: an action name has none',
      },
      {
        elementId: 'retries',
        type: 'connector',
        reason: 'attribute "retries" is not supported on connector: the engine does not execute it',
      },
    ]);
  });

  it('passes over what it does not execute in a stored definition, never over what it would run wrong', async () => {
    const lax = diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:userTask id="review" pectrack:colour="red">
          <bpmn:extensionElements><camunda:taskListener event="create" class="x.Y" /></bpmn:extensionElements>
        </bpmn:userTask>
        <bpmn:serviceTask id="notify">
          <bpmn:extensionElements><pectrack:connector type="email" retries="3" /></bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:endEvent id="end"><pectrack:sound /></bpmn:endEvent>
        ${flows('start>review', 'review>notify', 'notify>end')}`);
    expect((await problemsOf(lax)).map((problem) => problem.reason)).toEqual([
      'unknown element <pectrack:sound>: the engine does not execute it',
      'attribute "pectrack:colour" is not supported on userTask: the engine does not execute it',
      'extension element <camunda:taskListener> is not supported here: the engine does not execute it',
      'attribute "retries" is not supported on connector: the engine does not execute it',
    ]);
    const stored = await compile(lax, { stored: true });
    expect(stored.ok).toBe(true);
    if (!stored.ok) return;
    expect(stored.processes[0]!.nodes.get('notify')?.connector?.type).toBe('email');

    const wrong = diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:userTask id="review" priority="high" />
        <bpmn:endEvent id="end" />
        ${flows('start>review', 'review>end')}`);
    expect(await compile(wrong, { stored: true })).toMatchObject({
      ok: false,
      problems: [{ elementId: 'review', reason: expect.stringContaining('priority') }],
    });
  });

  it('reports multi-instance, listeners and other execution extensions', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:userTask id="review">
          <bpmn:extensionElements><camunda:taskListener event="create" class="x.Y" /></bpmn:extensionElements>
          <bpmn:multiInstanceLoopCharacteristics />
        </bpmn:userTask>
        <bpmn:endEvent id="end" />
        ${flows('start>review', 'review>end')}`),
    );
    expect(problems).toEqual([
      {
        elementId: 'review',
        type: 'userTask',
        reason:
          '"loopCharacteristics" is not supported on userTask: the engine does not execute it',
      },
      {
        elementId: 'review',
        type: 'userTask',
        reason:
          'extension element <camunda:taskListener> is not supported here: the engine does not execute it',
      },
    ]);
  });

  it('reports invalid timer expressions and invalid FEEL', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:startEvent id="start" />
        <bpmn:intermediateCatchEvent id="wait-duration"><bpmn:timerEventDefinition><bpmn:timeDuration>1 hour</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="wait-cron"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="wait-date"><bpmn:timerEventDefinition><bpmn:timeDate>tomorrow</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:exclusiveGateway id="gate" />
        <bpmn:endEvent id="end" />
        ${flows('start>wait-duration', 'wait-duration>wait-cron', 'wait-cron>wait-date', 'wait-date>gate')}
        <bpmn:sequenceFlow id="bad-feel" sourceRef="gate" targetRef="end"><bpmn:conditionExpression>=amount &gt;&gt; 3 (</bpmn:conditionExpression></bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="plain" sourceRef="gate" targetRef="end"><bpmn:conditionExpression>approved</bpmn:conditionExpression></bpmn:sequenceFlow>`),
    );
    expect(problems.map((problem) => [problem.elementId, problem.type])).toEqual([
      ['wait-duration', 'intermediateCatchEvent'],
      ['wait-cron', 'intermediateCatchEvent'],
      ['wait-date', 'intermediateCatchEvent'],
      ['bad-feel', 'sequenceFlow'],
      ['plain', 'sequenceFlow'],
    ]);
    expect(problems[0]!.reason).toBe(
      'invalid timer duration "1 hour": expected an ISO 8601 duration such as PT1H or P3D',
    );
    expect(problems[1]!.reason).toMatch(
      /^invalid timer cycle "0 0 9 \* \* \?": expected an ISO 8601 repeating interval/,
    );
    expect(problems[2]!.reason).toMatch(/^invalid timer date "tomorrow"/);
    expect(problems[3]!.reason).toMatch(/^invalid FEEL syntax at position \d+/);
    expect(problems[4]!.reason).toBe('condition "approved" must be FEEL: write it as "=approved"');
  });

  it('reports structural problems: missing start event, connector without type, flows across scopes', async () => {
    const problems = await problemsOf(
      diagram(`
        <bpmn:serviceTask id="call" />
        <bpmn:subProcess id="sub"><bpmn:startEvent id="inner-start" /><bpmn:endEvent id="inner-end" /></bpmn:subProcess>
        <bpmn:endEvent id="end" />
        <bpmn:sequenceFlow id="across" sourceRef="inner-end" targetRef="end" />`),
    );
    expect(problems).toEqual([
      {
        elementId: 'call',
        type: 'serviceTask',
        reason: 'serviceTask needs exactly one <pectrack:connector type="..."> extension element',
      },
      {
        elementId: 'p',
        type: 'process',
        reason: 'a process needs exactly one none start event, found 0',
      },
      {
        elementId: 'across',
        type: 'sequenceFlow',
        reason: 'a sequence flow must connect elements of the same (sub-)process',
      },
    ]);
  });

  it('reports elements without an id and duplicate ids', async () => {
    const problems = await problemsOf(
      diagram(`<bpmn:startEvent id="start" /><bpmn:userTask /><bpmn:endEvent id="start" />`),
    );
    expect(problems).toEqual([
      {
        elementId: 'start',
        type: 'endEvent',
        reason: 'invalid content <bpmn:endEvent>: duplicate ID <start>',
      },
      { elementId: 'p', type: 'userTask', reason: 'a userTask in p has no id' },
    ]);
  });

  it('reports a sequence flow to an element that does not exist', async () => {
    const problems = await problemsOf(
      diagram(`<bpmn:startEvent id="start" />${flows('start>nowhere')}`),
    );
    expect(problems).toEqual([
      {
        elementId: 'start-nowhere',
        type: 'sequenceFlow',
        reason: 'unresolved reference <nowhere>',
      },
    ]);
  });
});
