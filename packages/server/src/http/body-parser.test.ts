/**
 * The one pass that bounds a body before it is parsed (`jsonBoundExceeded`), against what the
 * text holds: its values, its depth and the characters of its keys as written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonBoundExceeded, MAX_JSON_DEPTH } from './body-parser.js';

interface Counts {
  readonly values: number;
  /** Empty objects and arrays: the one pass counts each of them once more (see below). */
  readonly empty: number;
  readonly depth: number;
  /** Characters of every key as JSON.stringify writes it (escapes included, quotes not). */
  readonly keyChars: number;
}

/** What `value` holds, counted on the value itself (the reference the one pass must meet). */
function countsOf(value: unknown, level = 0): Counts {
  if (typeof value !== 'object' || value === null)
    return { values: 1, empty: 0, depth: level, keyChars: 0 };
  const inner = Array.isArray(value)
    ? value.map((v) => ({ key: 0, counts: countsOf(v, level + 1) }))
    : Object.entries(value).map(([k, v]) => ({
        key: JSON.stringify(k).length - 2,
        counts: countsOf(v, level + 1),
      }));
  return {
    values: 1 + inner.reduce((sum, i) => sum + i.counts.values, 0),
    empty: (inner.length === 0 ? 1 : 0) + inner.reduce((sum, i) => sum + i.counts.empty, 0),
    depth: Math.max(level + 1, ...inner.map((i) => i.counts.depth)),
    keyChars: inner.reduce((sum, i) => sum + i.key + i.counts.keyChars, 0),
  };
}

/** Keys and strings with the characters a scanner could misread: quotes, escapes, colons. */
const tricky = fc.string({
  unit: fc.constantFrom('a', '"', '\\', ':', ',', '{', '[', ' ', '\n', 'é', '\u0000', '😀'),
  maxLength: 6,
});
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('jsonBoundExceeded', () => {
  // The pass counts an opening bracket and each comma: one more than the values held for each
  // empty object or array (never fewer, so a bound is never passed unseen).
  it('counts values (and one more per empty object or array) and key characters exactly, in compact and spaced text alike', () => {
    let keyed = 0;
    fc.assert(
      fc.property(json, fc.constantFrom(undefined, 1, '\t'), (value, space) => {
        const text = JSON.stringify(value, null, space);
        const { values, empty, keyChars } = countsOf(value);
        const counted = values + empty;
        expect(jsonBoundExceeded(text, counted, keyChars)).toBeUndefined();
        if (counted > 1) expect(jsonBoundExceeded(text, counted - 1, keyChars)).toBe('values');
        if (keyChars > 0) {
          keyed++;
          expect(jsonBoundExceeded(text, counted, keyChars - 1)).toBe('keys');
        }
      }),
      { numRuns: 2000 },
    );
    // The property met keys, not only scalars and arrays.
    expect(keyed).toBeGreaterThan(200);
  });

  it('refuses nesting past the bound wherever it lies, and never counts brackets in strings', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(jsonBoundExceeded(deep(MAX_JSON_DEPTH), 1e6)).toBeUndefined();
    expect(jsonBoundExceeded(deep(MAX_JSON_DEPTH + 1), 1e6)).toBe('depth');
    expect(jsonBoundExceeded(`{"a":${deep(MAX_JSON_DEPTH)}}`, 1e6)).toBe('depth');
    expect(jsonBoundExceeded(JSON.stringify({ '[[[': '{{{:' }), 2, 3)).toBeUndefined();
  });
});
