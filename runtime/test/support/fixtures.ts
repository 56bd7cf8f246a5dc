import { readFileSync } from 'node:fs';

export function bpmnFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/bpmn/${name}`, import.meta.url), 'utf8');
}

/** A process in the definitions wrapper our diagrams use (pectrack namespace, one message). */
export function diagram(processId: string, content: string, messages = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:pectrack="http://pectrack.org/schema/bpmn/1.0"
  id="defs-${processId}" targetNamespace="http://pectrack.org/test">
  ${messages}
  <bpmn:process id="${processId}" isExecutable="true">
${content}
  </bpmn:process>
</bpmn:definitions>`;
}

/** `a>b` sequence flows with ids `a-b`. */
export function flows(...pairs: string[]): string {
  return pairs
    .map((pair) => {
      const [source, target] = pair.split('>');
      return `<bpmn:sequenceFlow id="${source}-${target}" sourceRef="${source}" targetRef="${target}" />`;
    })
    .join('\n');
}

/**
 * start → service task `notify` calling connector `type` (input `to` from `recipient`, output
 * `receipt`) → end: the smallest process around one connector call.
 */
export function notifyingProcess(processId: string, type: string): string {
  return diagram(
    processId,
    `<bpmn:startEvent id="start" />
   <bpmn:serviceTask id="notify">
     <bpmn:extensionElements>
       <pectrack:connector type="${type}">
         <pectrack:input source="=recipient" target="to" />
         <pectrack:output source="=receipt" target="receipt" />
       </pectrack:connector>
     </bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:endEvent id="end" />
   ${flows('start>notify', 'notify>end')}`,
  );
}
