import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';

const dob = { table: 'users', column: 'dob' } as const;

function cipher() {
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('blind-index');
  return createFieldCipher({ keyring });
}

describe('slow (Argon2id) blind index parameters', () => {
  it('uses the documented defaults: 19456 KiB, 2 passes, 1 lane', () => {
    const fc = cipher();
    const byDefault = fc.blindIndex('1990-04-01', { ...dob, slow: true });
    expect(byDefault).toBe(
      fc.blindIndex('1990-04-01', {
        ...dob,
        slow: { memoryKiB: 19456, iterations: 2, parallelism: 1 },
      }),
    );
    expect(byDefault).toBe(fc.blindIndex('1990-04-01', { ...dob, slow: {} }));
  });

  it('gives another index for each other parameter value', () => {
    const fc = cipher();
    const base = { memoryKiB: 256, iterations: 1, parallelism: 1 };
    const index = (slow: typeof base) => fc.blindIndex('1990-04-01', { ...dob, slow });
    const reference = index(base);
    expect(index({ ...base, memoryKiB: 512 })).not.toBe(reference);
    expect(index({ ...base, iterations: 2 })).not.toBe(reference);
    expect(index({ ...base, parallelism: 2 })).not.toBe(reference);
    expect(index({ ...base })).toBe(reference);
  });
});
