import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import {
  compile,
  step,
  type Command,
  type CompileProblem,
  type Effect,
  type ExecutableProcess,
  type InstanceState,
  type Variables,
} from '../../src/engine/index.js';

export const NOW = new Date('2030-01-01T08:00:00.000Z');

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/bpmn/${name}`, import.meta.url), 'utf8');
}

/** Wraps process content in definitions with the namespaces our diagrams use. */
export function diagram(content: string, processAttributes = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:pectrack="http://pectrack.org/schema/bpmn/1.0"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="defs" targetNamespace="http://pectrack.org/test">
  <bpmn:message id="msg-reply" name="pec.reply" />
  <bpmn:process id="p" isExecutable="true" ${processAttributes}>
${content}
  </bpmn:process>
</bpmn:definitions>`;
}

/** `a -> b` sequence flows, written `flows('start>task', 'task>end')`; ids are `a-b`. */
export function flows(...pairs: string[]): string {
  return pairs
    .map((pair) => {
      const [source, target] = pair.split('>');
      return `<bpmn:sequenceFlow id="${source}-${target}" sourceRef="${source}" targetRef="${target}" />`;
    })
    .join('\n');
}

export async function compileProcess(xml: string): Promise<ExecutableProcess> {
  const result = await compile(xml);
  if (!result.ok)
    throw new Error(`unexpected problems: ${JSON.stringify(result.problems, null, 2)}`);
  expect(result.processes).toHaveLength(1);
  return result.processes[0]!;
}

export async function problemsOf(xml: string): Promise<CompileProblem[]> {
  const result = await compile(xml);
  if (result.ok) throw new Error('expected the diagram to be refused');
  return result.problems;
}

/**
 * Drives one instance the way the shell does: every state goes through JSON (it is stored as
 * a JSON column) and is frozen, so a step that mutated its input would throw.
 */
export class Instance {
  state: InstanceState | null = null;
  readonly log: Effect[] = [];
  now = NOW;

  constructor(readonly process: ExecutableProcess) {}

  static async start(xml: string, variables: Variables = {}): Promise<Instance> {
    const instance = new Instance(await compileProcess(xml));
    instance.send({ type: 'start', variables });
    return instance;
  }

  send(command: Command): Effect[] {
    const result = step(this.process, this.state, command, this.now);
    this.state = deepFreeze(JSON.parse(JSON.stringify(result.state)) as InstanceState);
    this.log.push(...result.effects);
    return result.effects;
  }

  /** The open task created at `elementId` (the last one created there). */
  taskRef(elementId: string): string {
    const created = this.log.filter(
      (effect): effect is Extract<Effect, { type: 'createTask' }> =>
        effect.type === 'createTask' && effect.elementId === elementId,
    );
    expect(created.length, `a task at ${elementId}`).toBeGreaterThan(0);
    return created[created.length - 1]!.taskRef;
  }

  complete(elementId: string, variables: Variables = {}): Effect[] {
    return this.send({ type: 'completeTask', taskRef: this.taskRef(elementId), variables });
  }

  timerRef(elementId: string): string {
    const scheduled = this.log.filter(
      (effect): effect is Extract<Effect, { type: 'scheduleTimer' }> =>
        effect.type === 'scheduleTimer' && effect.elementId === elementId,
    );
    expect(scheduled.length, `a timer at ${elementId}`).toBeGreaterThan(0);
    return scheduled[scheduled.length - 1]!.timerRef;
  }

  /** Element ids in the order they completed (history). */
  completed(): (string | null)[] {
    return this.log
      .filter((effect) => effect.type === 'history' && effect.event === 'elementCompleted')
      .map((effect) => (effect as { elementId: string }).elementId);
  }

  openTasks(): string[] {
    const open = new Map<string, string>();
    for (const effect of this.log) {
      if (effect.type === 'createTask') open.set(effect.taskRef, effect.elementId);
      if (effect.type === 'cancelTask') open.delete(effect.taskRef);
      if (effect.type === 'history' && effect.event === 'elementCompleted') {
        for (const [ref, elementId] of open) if (elementId === effect.elementId) open.delete(ref);
      }
    }
    return [...open.values()].sort();
  }

  get status(): InstanceState['status'] {
    return this.state!.status;
  }
}

export function ofType<T extends Effect['type']>(
  effects: Effect[],
  type: T,
): Extract<Effect, { type: T }>[] {
  return effects.filter((effect): effect is Extract<Effect, { type: T }> => effect.type === type);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const entry of Object.values(value)) deepFreeze(entry);
    Object.freeze(value);
  }
  return value;
}
