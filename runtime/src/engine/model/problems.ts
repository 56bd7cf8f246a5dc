import type { CompileProblem } from '../types.js';

/** Collects every problem of a diagram, so one deploy attempt reports all of them. */
export class Problems {
  readonly list: CompileProblem[] = [];

  /**
   * @param stored compiling a definition that is already deployed: see `unexecuted`.
   */
  constructor(private readonly stored = false) {}

  add(elementId: string | undefined, type: string, reason: string): void {
    this.list.push({ elementId: elementId ?? '', type, reason });
  }

  /**
   * Something in the diagram the engine would not execute (an unknown attribute or extension
   * element). Refused at deployment, so the analyst learns it is ignored; passed over when a
   * stored definition is compiled again, because a release that checks more than the one that
   * deployed it must still run the instances already waiting in it.
   */
  unexecuted(elementId: string | undefined, type: string, reason: string): void {
    if (!this.stored) this.add(elementId, type, reason);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** `bpmn:UserTask` → `userTask`: Camunda's activity-type spelling, used in problems and history. */
export function typeName(moddleType: string): string {
  const local = moddleType.slice(moddleType.indexOf(':') + 1);
  return local.charAt(0).toLowerCase() + local.slice(1);
}
