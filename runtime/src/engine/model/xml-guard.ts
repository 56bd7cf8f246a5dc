import type { CompileProblem } from '../types.js';

const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

/**
 * Refuses DOCTYPE and ENTITY declarations before any parser sees the text: a BPMN diagram never
 * needs them, and refusing them outright rules out entity expansion attacks of every kind.
 */
export function forbiddenDeclaration(xml: string): CompileProblem | null {
  const match = DECLARATION.exec(xml);
  if (match === null) return null;
  return {
    elementId: '',
    type: 'document',
    reason: `XML ${match[1]!.toUpperCase()} declarations are not allowed in a BPMN diagram`,
  };
}
