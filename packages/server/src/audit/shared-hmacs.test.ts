import { createSecretKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacScalars, hmacValue } from './hmac-values.js';
import { LayeredHmacMemo, SharedHmacs } from './shared-hmacs.js';

const newKey = () => createSecretKey(randomBytes(32));
const identity = () => ({
  accessor: 'acc-1',
  displayName: 'svc',
  policies: ['default', 'app'],
  meta: { team: 'ops' },
});

describe('LayeredHmacMemo', () => {
  it('keeps only the kept values in the shared layer, and clears only its own', () => {
    const shared = new Map<string, string>();
    const memo = new LayeredHmacMemo(shared, new Set(['kept']));
    memo.set('kept', 'h1').set('request-value', 'h2');
    expect([...shared]).toEqual([['kept', 'h1']]);
    expect([...memo]).toEqual([['request-value', 'h2']]);
    expect([memo.get('kept'), memo.get('request-value'), memo.get('other')]).toEqual([
      'h1',
      'h2',
      undefined,
    ]);
    expect([memo.has('kept'), memo.has('request-value'), memo.has('other')]).toEqual([
      true,
      true,
      false,
    ]);
    memo.clear();
    expect([memo.has('kept'), memo.has('request-value')]).toEqual([true, false]);
    expect(shared.size).toBe(1);
  });
});

describe('SharedHmacs', () => {
  it("shares the HMACs of one caller's values under one key, never under another key or caller", () => {
    const shared = new SharedHmacs();
    const [key, other] = [newKey(), newKey()];
    const caller = identity();
    const first = shared.memoFor(key, caller);
    hmacScalars(key, { a: 'acc-1', b: 'ops', c: 'not-kept' }, first);
    const again = shared.memoFor(key, caller);
    expect(['acc-1', 'ops', 'not-kept'].map((v) => again.has(v))).toEqual([true, true, false]);
    // Another key, another caller (even one equal in every field), no caller: nothing shared.
    for (const memo of [
      shared.memoFor(other, caller),
      shared.memoFor(key, identity()),
      shared.memoFor(key, undefined),
    ])
      expect(memo.has('acc-1')).toBe(false);
  });

  it('keeps the common values for requests without a caller', () => {
    const shared = new SharedHmacs();
    const key = newKey();
    hmacScalars(
      key,
      { n: 0, flag: true, empty: '', secret: 'canary-5c1e' },
      shared.memoFor(key, undefined),
    );
    const next = shared.memoFor(key, undefined);
    expect(['0', 'true', '', 'canary-5c1e'].map((v) => next.has(v))).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('gives every value the HMAC computed without a memo, whatever was met before', () => {
    const key = newKey();
    const caller = identity();
    const shared = new SharedHmacs();
    const value = fc.oneof(
      fc.constantFrom('acc-1', 'svc', 'default', 'app', 'ops', '', '0', 'true', 'root'),
      fc.string(),
      fc.integer(),
      fc.boolean(),
    );
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 8 }), { maxLength: 6 }), (requests) => {
        for (const values of requests) {
          const memo = shared.memoFor(key, caller);
          expect(hmacScalars(key, values, memo)).toEqual(values.map((v) => hmacValue(key, v)));
          memo.clear();
        }
      }),
      { numRuns: 200 },
    );
  });
});
