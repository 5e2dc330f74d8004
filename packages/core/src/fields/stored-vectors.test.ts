/**
 * Stored known-answer vectors of field ciphertexts and blind indexes (`fields-v1.json` in
 * `packages/test-support/vectors/`, written once by its `generate.ts`): values stored by an earlier
 * build — keyring mode, deterministic columns, padding, tenants, and both KMS modes — must decrypt
 * with today's code, and blind indexes must come out the same, or lookups on stored indexes would
 * silently find nothing.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BlindIndexVector,
  type FieldVector,
  type FieldVectorFile,
  readRepoFile,
  readVectorFile,
  storedFieldValue,
} from '@custos/test-support/vectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyring } from '../crypto/index.js';
import { LocalKms, localKmsDataKeys } from '../kms/index.js';
import { blindIndexVersion, createFieldCipher, createKeyringKms } from './index.js';
import type { AnyFieldCipher, FieldContext, FieldValue } from './types.js';

const file = readVectorFile<FieldVectorFile>('fields-v1.json');
const keyring = loadKeyring(file.keyring);
const fc = createFieldCipher({ keyring });
// Format 1 indexes were derived from the encryption key (`default`): they are legacy now, matched
// through legacyBlindIndexKeyName next to a blind-index key of their own.
const withBlindIndexKey = loadKeyring(file.keyring);
withBlindIndexKey.createKey('blind-index');
const legacy = createFieldCipher({
  keyring: withBlindIndexKey,
  legacyBlindIndexKeyName: 'default',
});
const contextOf = (v: { context: unknown }) => v.context as FieldContext;
const typedValue = (v: { value: FieldVector['value'] }) => storedFieldValue(v.value) as FieldValue;

let dir: string;
let ciphers: Record<FieldVector['mode'], AnyFieldCipher>;
beforeAll(async () => {
  // The KMS file format is stored data too: open it as an application would.
  dir = await mkdtemp(join(tmpdir(), 'custos-field-vectors-'));
  const kmsFile = join(dir, 'kms.json');
  await writeFile(kmsFile, JSON.stringify(file.kmsFile));
  await chmod(kmsFile, 0o600);
  const kms = await LocalKms.open(kmsFile);
  ciphers = {
    keyring: fc,
    'local-kms': createFieldCipher({ kms: localKmsDataKeys(kms, file.kmsKey), keyring }),
    'keyring-kms': createFieldCipher({
      kms: createKeyringKms(keyring, { keyName: file.keyringKmsKey }),
    }),
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stored field vectors (format 1)', () => {
  it('cover every value type, each mode, tenants, padding, deterministic columns and two key versions', () => {
    const kinds = new Set(file.fields.flatMap((v) => Object.keys(v.value)));
    expect(kinds).toEqual(
      new Set(['string', 'number', 'boolean', 'date', 'bytes', 'json', 'bigint']),
    );
    expect(new Set(file.fields.map((v) => v.mode))).toEqual(
      new Set(['keyring', 'local-kms', 'keyring-kms']),
    );
    expect(file.fields.some((v) => v.context.tenantId !== undefined)).toBe(true);
    expect(file.fields.some((v) => v.context.padding !== undefined)).toBe(true);
    expect(file.fields.some((v) => v.context.deterministic === true)).toBe(true);
    expect(new Set(file.fields.map((v) => v.keyVersion).filter(Boolean))).toEqual(new Set([1, 2]));
    expect(file.blindIndexes.some((v) => v.options.slow !== undefined)).toBe(true);
  });

  it.each(file.fields.map((v) => [v.name, v] as const))('%s decrypts', async (_name, v) => {
    const value = await ciphers[v.mode].decrypt(v.ciphertext, contextOf(v));
    const expected = typedValue(v);
    expect(value).toEqual(expected);
    if (typeof expected === 'number') expect(Object.is(value, expected)).toBe(true);
  });

  it.each(file.fields.filter((v) => v.mode === 'keyring').map((v) => [v.name, v] as const))(
    '%s: describe names its key and version',
    (_name, v) => {
      const info = fc.describe(v.ciphertext);
      expect(info).toMatchObject({
        keyName: v.keyName,
        keyVersion: v.keyVersion,
        deterministic: v.context.deterministic === true,
        current: v.keyVersion === keyring.info(v.keyName as string).primaryVersion,
      });
    },
  );

  it.each(
    file.fields
      .filter((v) => v.mode === 'keyring' && v.context.deterministic === true)
      .map((v) => [v.name, v] as const),
  )('%s: a lookup computes the stored ciphertext', (_name, v) => {
    expect(fc.deterministicCandidates(typedValue(v), contextOf(v))).toContain(v.ciphertext);
    if (v.keyVersion === keyring.info('deterministic').primaryVersion) {
      expect(fc.encrypt(typedValue(v), contextOf(v))).toBe(v.ciphertext);
    }
  });

  it.each(file.blindIndexes.map((v) => [v.name, v] as const))(
    '%s: the blind index is computed again (as a legacy candidate)',
    async (_name, v: BlindIndexVector) => {
      // Legacy indexes name the version of the encryption key they were derived from.
      expect(blindIndexVersion(v.index)).toBeUndefined();
      const version = Number(/^v(\d+)\./.exec(v.index)?.[1]);
      expect(v.options.version ?? version).toBe(version);
      const { version: _, ...options } = v.options;
      const candidates = legacy.blindIndexCandidates(typedValue(v), options);
      expect(candidates).toContain(v.index);
      expect(candidates[0]).toMatch(/^b1\./);
      expect(candidates.indexOf(v.index)).toBe(
        1 + keyring.info('default').primaryVersion - version,
      );
    },
  );

  it('the examples in FORMAT.md are stored vectors, quoted verbatim', () => {
    const quoted = [...file.fields, ...file.blindIndexes].filter((v) => v.quotedIn !== undefined);
    expect(quoted.map((v) => v.quotedIn)).toEqual([
      'packages/core/src/fields/FORMAT.md',
      'packages/core/src/fields/FORMAT.md',
    ]);
    const doc = readRepoFile('packages/core/src/fields/FORMAT.md');
    for (const v of quoted) {
      expect(doc).toContain(`    ${'ciphertext' in v ? v.ciphertext : v.index}\n`);
      expect(doc).toContain(JSON.stringify((v.value as { string: string }).string));
    }
  });
});
