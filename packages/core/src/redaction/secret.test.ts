import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSecret, Secret } from './secret.js';

const CANARY = 'canary-8f2b1c0e-do-not-print';

describe('Secret', () => {
  it('prints [REDACTED] through every usual path', () => {
    const secret = new Secret(CANARY);
    const outputs = [
      String(secret),
      `${secret}`,
      secret.toString(),
      JSON.stringify({ secret }),
      JSON.stringify([secret]),
      inspect(secret),
      inspect({ nested: { secret } }, { depth: 5, showHidden: true }),
      `${(secret as unknown as number) + 1}`,
    ];
    for (const text of outputs) {
      expect(text).toContain('[REDACTED]');
      expect(text).not.toContain(CANARY);
    }
  });

  it('does not leak through spread, Object.keys, structuredClone or an error message', () => {
    const secret = new Secret(CANARY);
    expect(JSON.stringify({ ...secret })).not.toContain(CANARY);
    expect(Object.keys(secret)).toEqual([]);
    expect(JSON.stringify(structuredClone(secret))).not.toContain(CANARY);
    expect(new Error(`failed with ${secret}`).message).not.toContain(CANARY);
  });

  it('reveals only on request and compares in constant time', () => {
    const secret = new Secret(CANARY);
    expect(secret.reveal()).toBe(CANARY);
    expect(secret.equals(CANARY)).toBe(true);
    expect(secret.equals(new Secret(CANARY))).toBe(true);
    expect(secret.equals('other')).toBe(false);
    expect(new Secret(Buffer.from('ab')).equals(Buffer.from('ab'))).toBe(true);
    expect(new Secret(42).equals(42)).toBe(false);
    expect(isSecret(secret)).toBe(true);
    expect(isSecret(CANARY)).toBe(false);
  });
});
