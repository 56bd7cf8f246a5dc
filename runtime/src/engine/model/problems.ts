import type { CompileProblem } from '../types.js';

/** Collects every problem of a diagram, so one deploy attempt reports all of them. */
export class Problems {
  readonly list: CompileProblem[] = [];

  add(elementId: string | undefined, type: string, reason: string): void {
    this.list.push({ elementId: elementId ?? '', type, reason });
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
