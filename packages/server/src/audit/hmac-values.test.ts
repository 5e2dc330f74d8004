import { createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalScalar, HMAC_PREFIX, hmacScalars, hmacValue } from './hmac-values.js';

const key = createSecretKey(Buffer.alloc(32, 7));
const isHmac = (value: unknown) =>
  typeof value === 'string' && new RegExp(`^${HMAC_PREFIX}[0-9a-f]{64}$`).test(value);

describe('audit HMAC of request and response values', () => {
  it('replaces every string, number and boolean at any depth, keeping keys, arrays and null', () => {
    const out = hmacScalars(key, {
      pin: 987654,
      enabled: true,
      disabled: false,
      ratio: -0.5,
      name: 'alice',
      none: null,
      nested: { list: [1, 'two', [false, null]], empty: {}, none: [] },
    }) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual([
      'pin',
      'enabled',
      'disabled',
      'ratio',
      'name',
      'none',
      'nested',
    ]);
    for (const field of ['pin', 'enabled', 'disabled', 'ratio', 'name'])
      expect(isHmac(out[field])).toBe(true);
    expect(out.none).toBeNull();
    const nested = out.nested as { list: unknown[]; empty: unknown; none: unknown };
    expect(nested.list).toHaveLength(3);
    expect(isHmac(nested.list[0])).toBe(true);
    expect(isHmac(nested.list[1])).toBe(true);
    const inner = nested.list[2] as unknown[];
    expect(isHmac(inner[0])).toBe(true);
    expect(inner[1]).toBeNull();
    expect(nested.empty).toEqual({});
    expect(nested.none).toEqual([]);
    expect(JSON.stringify(out)).not.toMatch(/987654|true|false|-0\.5|alice/);
  });

  it('leaves an absent value absent: never written as null, nor as an empty object', () => {
    expect(hmacScalars(key, undefined)).toBeUndefined();
    // A field holding undefined is left out of the line, as JSON.stringify leaves it; null stays.
    expect(JSON.stringify(hmacScalars(key, { gone: undefined, none: null }))).toBe('{"none":null}');
    // Left out of the object itself, not kept as a field holding undefined (which a caller
    // reading the object, rather than its JSON, would see).
    const out = hmacScalars(key, { gone: undefined, f: () => 1, none: null }) as object;
    expect(Object.keys(out)).toEqual(['none']);
    expect(JSON.stringify({ data: hmacScalars(key, undefined) })).toBe('{}');
  });

  it('a scalar is HMACd as its canonical string: what sys/audit-hash computes for it', () => {
    expect(canonicalScalar(987654)).toBe('987654');
    expect(canonicalScalar(1.5e3)).toBe('1500');
    expect(canonicalScalar(-0)).toBe('0');
    expect(canonicalScalar(true)).toBe('true');
    expect(canonicalScalar('text')).toBe('text');
    expect(hmacScalars(key, 987654)).toBe(hmacValue(key, '987654'));
    expect(hmacScalars(key, false)).toBe(hmacValue(key, 'false'));
    expect(hmacScalars(key, { a: 'x' })).toEqual({ a: hmacValue(key, 'x') });
  });
  it('reads a value as JSON.stringify does: an object gives what the text it is sent as gives', () => {
    const anything = fc.anything({
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    const extras = fc.oneof(
      anything,
      fc.constantFrom(
        { when: new Date(0), f: () => 1, s: Symbol('x'), u: undefined, n: Number.NaN },
        [() => 1, undefined, Symbol('y'), Number.POSITIVE_INFINITY, -0],
        { custom: { toJSON: (name: string) => `named ${name}` } },
        // At the top, toJSON is given the empty name, as JSON.stringify gives it.
        { toJSON: (name: string) => `named ${JSON.stringify(name)}` },
        { boxed: [Object(1), Object('two'), Object(false)] },
        { buffer: Buffer.from('abc') },
      ),
    );
    fc.assert(
      fc.property(extras, (value) => {
        const text = JSON.stringify(value);
        if (text === undefined) {
          expect(hmacScalars(key, value)).toBeUndefined();
          return;
        }
        expect(JSON.stringify(hmacScalars(key, value))).toBe(
          JSON.stringify(hmacScalars(key, JSON.parse(text))),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
