import {
  evaluateDueDate,
  evaluateExpression,
  evaluateInteger,
  evaluateList,
  evaluateText,
  toJsonValue,
  type Outcome,
} from '../expressions/evaluate.js';
import type { Run } from '../execution/run.js';
import { retriesOf, type Token } from '../execution/state.js';
import type { ConnectorDefinition, FlowNode, Mapping, TaskDefinition } from '../model/graph.js';
import type { TaskSpec, Variables } from '../types.js';
import type { Behaviour, Behaviours } from './behaviour.js';

/** Camunda's default task priority, so Camunda clients see the value they expect. */
const DEFAULT_PRIORITY = 50;

/** Puts a task on a desk and waits for its completion. */
const humanTask: Behaviour = {
  execute(run, token, node) {
    const task = taskSpec(node, node.task!, run.variables, run.now);
    if (!task.ok) {
      run.raiseIncident(token, 'expression', `${node.id}: ${task.message}`, 'execute');
      return;
    }
    const ref = run.ref('t');
    run.emit({ type: 'createTask', taskRef: ref, elementId: node.id, task: task.value });
    run.wait(token, { k: 'task', ref });
  },
};

/** Hands the connector call to the outbox and waits for its result. */
const connectorTask: Behaviour = {
  execute(run, token, node) {
    const connector = node.connector!;
    const input = connectorInput(connector, run.variables);
    if (!input.ok) {
      run.raiseIncident(
        token,
        'expression',
        `input mapping of ${node.id}: ${input.message}`,
        'execute',
      );
      return;
    }
    const job = run.connectorJob(token);
    run.emit({
      type: 'invokeConnector',
      ...job,
      elementId: node.id,
      connectorType: connector.type,
      input: input.value,
    });
    run.wait(token, { k: 'job', ref: job.jobRef, ...retriesOf(job) });
  },
};

export const taskBehaviours = {
  task: { execute: (run, token) => run.leave(token) },
  userTask: humanTask,
  manualTask: humanTask,
  connectorTask,
} satisfies Behaviours;

/**
 * Applies a connector's output to the variables (all of it when the task maps nothing), then
 * leaves the task; a failing mapping raises an incident that keeps the output for the retry.
 */
export function completeConnectorTask(run: Run, token: Token, output: Variables): void {
  const node = run.node(token);
  const mapped = outputVariables(node.connector!, output, run.variables);
  if (!mapped.ok) {
    run.raiseIncident(
      token,
      'expression',
      `output mapping of ${node.id}: ${mapped.message}`,
      'output',
      { output },
    );
    return;
  }
  run.mergeVariables(mapped.value);
  run.leave(token);
}

function taskSpec(
  node: FlowNode,
  task: TaskDefinition,
  variables: Variables,
  now: Date,
): Outcome<TaskSpec> {
  const assignee = evaluateText(task.assignee, variables, 'assignee');
  if (!assignee.ok) return assignee;
  const candidateUsers = evaluateList(task.candidateUsers, variables, 'candidate users');
  if (!candidateUsers.ok) return candidateUsers;
  const candidateOffices = evaluateList(task.candidateOffices, variables, 'candidate offices');
  if (!candidateOffices.ok) return candidateOffices;
  const dueAt = evaluateDueDate(task.dueDate, variables, now);
  if (!dueAt.ok) return dueAt;
  const priority = evaluateInteger(task.priority, variables, DEFAULT_PRIORITY, 'priority');
  if (!priority.ok) return priority;
  const formKey = evaluateText(task.formKey, variables, 'form key');
  if (!formKey.ok) return formKey;
  return {
    ok: true,
    value: {
      kind: task.kind,
      name: node.name,
      assignee: assignee.value,
      candidateUsers: candidateUsers.value,
      candidateOffices: candidateOffices.value,
      dueAt: dueAt.value,
      priority: priority.value,
      formKey: formKey.value,
    },
  };
}

/** Without input mappings the connector sees every variable, as a Zeebe job worker would. */
function connectorInput(connector: ConnectorDefinition, variables: Variables): Outcome<Variables> {
  if (connector.inputs.length === 0) return { ok: true, value: variables };
  return applyMappings(connector.inputs, variables);
}

function outputVariables(
  connector: ConnectorDefinition,
  output: Variables,
  variables: Variables,
): Outcome<Variables> {
  if (connector.outputs.length === 0) return { ok: true, value: output };
  return applyMappings(connector.outputs, { ...variables, ...output });
}

function applyMappings(mappings: readonly Mapping[], context: Variables): Outcome<Variables> {
  const result: Variables = {};
  for (const mapping of mappings) {
    const outcome = evaluateExpression(mapping.source, context);
    if (!outcome.ok) return { ok: false, message: `${mapping.target}: ${outcome.message}` };
    result[mapping.target] = toJsonValue(outcome.value);
  }
  return { ok: true, value: result };
}
