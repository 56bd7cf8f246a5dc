/**
 * The benchmark diagram: start → user task → exclusive gateway on `approved` → end.
 * bpmn-engine gets the same graph with its own expression syntax (it does not speak FEEL).
 */
const approval = (
  condition: string,
  namespaces = '',
): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ${namespaces}
  id="bench-definitions" targetNamespace="http://pectrack.org/bench">
  <bpmn:process id="bench-approval" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to-review" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="Review the request" />
    <bpmn:sequenceFlow id="to-decision" sourceRef="review" targetRef="decision" />
    <bpmn:exclusiveGateway id="decision" default="to-rejected" />
    <bpmn:sequenceFlow id="to-approved" sourceRef="decision" targetRef="approved">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to-rejected" sourceRef="decision" targetRef="rejected" />
    <bpmn:endEvent id="approved" />
    <bpmn:endEvent id="rejected" />
  </bpmn:process>
</bpmn:definitions>`;

export const PECTRACK_DIAGRAM = approval('=approved = true');
export const BPMN_ENGINE_DIAGRAM = approval('${environment.variables.approved}');
