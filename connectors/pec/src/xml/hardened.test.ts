import { describe, expect, it } from 'vitest';
import { childByLocalName } from './hardened.js';
import { readXml } from './reader.js';

describe('childByLocalName', () => {
  it('returns one written form as the reader built it', () => {
    const root = readXml('<r><p:d>a</p:d><p:d>b</p:d><x>c</x></r>', new Set()).r as Record<
      string,
      unknown
    >;
    expect(childByLocalName(root, 'd')).toBe(root['p:d']);
    expect(childByLocalName(root, 'x')).toBe('c');
    expect(childByLocalName(root, 'missing')).toBeUndefined();
  });

  it('gathers mixed prefixed forms in the order met, leaving the reader’s arrays as they were', () => {
    const root = readXml('<r><d>a</d><d>b</d><p:d>c</p:d><q:d>d</q:d><q:d>e</q:d></r>', new Set())
      .r as Record<string, unknown>;
    expect(childByLocalName(root, 'd')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(root.d).toEqual(['a', 'b']);
    expect(root['q:d']).toEqual(['d', 'e']);
  });
});
