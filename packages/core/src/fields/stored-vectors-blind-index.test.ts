/**
 * Stored known-answer vectors of blind indexes under a blind-index key of their own
 * (`blind-index-v2.json` in `packages/test-support/vectors/`, written once by its `generate.ts`):
 * indexes stored by an earlier build must come out the same, under both versions of the
 * blind-index key, with the encryption key rotated in between, or lookups on stored indexes
 * would silently find nothing.
 */
import {
  type BlindIndexVector,
  type BlindIndexVectorFile,
  readVectorFile,
  storedFieldValue,
} from '@custos/test-support/vectors';
import { describe, expect, it } from 'vitest';
import { loadKeyring } from '../crypto/index.js';
import { blindIndexVersion, createFieldCipher, createKeyringKms } from './index.js';
import type { FieldValue } from './types.js';

const file = readVectorFile<BlindIndexVectorFile>('blind-index-v2.json');
const keyring = loadKeyring(file.keyring);
const fc = createFieldCipher({ keyring });
const kmsFc = createFieldCipher({ kms: createKeyringKms(keyring), keyring });
const typedValue = (v: BlindIndexVector) => storedFieldValue(v.value) as FieldValue;

describe('stored blind-index vectors (format 2: b<version>.)', () => {
  it('cover two blind-index key versions, an encryption-key rotation, tenants, bits and Argon2id', () => {
    expect(keyring.info('default').primaryVersion).toBe(2);
    expect(keyring.info('blind-index').primaryVersion).toBe(2);
    expect(new Set(file.blindIndexes.map((v) => blindIndexVersion(v.index)))).toEqual(
      new Set([1, 2]),
    );
    expect(file.blindIndexes.some((v) => v.options.slow !== undefined)).toBe(true);
    expect(file.blindIndexes.some((v) => v.options.tenantId !== undefined)).toBe(true);
  });

  it.each(file.blindIndexes.map((v) => [v.name, v] as const))(
    '%s: the blind index is computed again',
    async (_name, v) => {
      const version = blindIndexVersion(v.index) as number;
      expect(v.options.version ?? version).toBe(version);
      const { version: _, ...options } = v.options;
      expect(fc.blindIndex(typedValue(v), { ...options, version })).toBe(v.index);
      expect(await kmsFc.blindIndex(typedValue(v), { ...options, version })).toBe(v.index);
      expect(fc.blindIndexCandidates(typedValue(v), options)).toContain(v.index);
    },
  );
});
