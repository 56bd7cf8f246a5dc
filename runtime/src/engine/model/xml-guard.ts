import type { CompileProblem } from '../types.js';

const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

/** The first DOCTYPE or ENTITY declaration in `xml`, if any. */
export function declarationIn(xml: string): 'DOCTYPE' | 'ENTITY' | null {
  const match = DECLARATION.exec(xml);
  return match ? (match[1]!.toUpperCase() as 'DOCTYPE' | 'ENTITY') : null;
}

/**
 * Refuses DOCTYPE and ENTITY declarations before any parser sees the text: a BPMN diagram never
 * needs them, and refusing them outright rules out entity expansion attacks of every kind.
 */
export function forbiddenDeclaration(xml: string): CompileProblem | null {
  const declaration = declarationIn(xml);
  if (declaration === null) return null;
  return {
    elementId: '',
    type: 'document',
    reason: `XML ${declaration} declarations are not allowed in a BPMN diagram`,
  };
}
