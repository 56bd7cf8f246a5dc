import { diagram, flows } from './fixtures.js';

export const CRASH_INSTANCES = 8;

/** Timers are due a few seconds after start: after the kill, before the restart has settled. */
export const CRASH_DIAGRAMS = {
  'crash-task': diagram(
    'crash-task',
    `<bpmn:startEvent id="start" /><bpmn:userTask id="work" /><bpmn:endEvent id="end" />
     ${flows('start>work', 'work>end')}`,
  ),
  'crash-timer': diagram(
    'crash-timer',
    `<bpmn:startEvent id="start" />
     <bpmn:intermediateCatchEvent id="wait">
       <bpmn:timerEventDefinition><bpmn:timeDuration>PT6S</bpmn:timeDuration></bpmn:timerEventDefinition>
     </bpmn:intermediateCatchEvent>
     <bpmn:userTask id="after-timer" /><bpmn:endEvent id="end" />
     ${flows('start>wait', 'wait>after-timer', 'after-timer>end')}`,
  ),
  'crash-connector': diagram(
    'crash-connector',
    `<bpmn:startEvent id="start" />
     <bpmn:serviceTask id="call">
       <bpmn:extensionElements>
         <pectrack:connector type="http-echo">
           <pectrack:input source="=caseNumber" target="caseNumber" />
           <pectrack:output source="=receipt" target="receipt" />
         </pectrack:connector>
       </bpmn:extensionElements>
     </bpmn:serviceTask>
     <bpmn:userTask id="after-call" /><bpmn:endEvent id="end" />
     ${flows('start>call', 'call>after-call', 'after-call>end')}`,
  ),
};
