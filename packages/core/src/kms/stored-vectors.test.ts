/**
 * Stored known-answer vectors of transit values (`transit-v1.json` and, for the key types added
 * after it, `transit-key-types-v1.json` in `packages/test-support/vectors/`, written once by its
 * `generate.ts`): a KMS file of an earlier build opens, and its keys decrypt, verify and recompute
 * the `vault:v<N>:` values that build made.
 * The server's transit reads the same file through `transit/restore`
 * (`packages/server/src/transit/stored-vectors.test.ts`).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVectorFile, type TransitVectorFile } from '@custos/test-support/vectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKms } from './index.js';

const b64 = (value: string | undefined) =>
  value === undefined ? undefined : Buffer.from(value, 'base64');
const versionOf = (value: string) => Number(/^vault:v(\d+):/.exec(value)?.[1]);

/** Each file with the keys its KMS file holds. */
const FILES = [
  ['transit-v1.json', ['aes', 'chacha', 'convergent', 'derived', 'ec', 'ed']],
  [
    'transit-key-types-v1.json',
    ['aes128', 'aes128-convergent', 'p384', 'p521', 'rsa2048', 'rsa4096'],
  ],
] as const;

describe.each(FILES)('stored transit vectors of %s on LocalKms', (fileName, keys) => {
  const file = readVectorFile<TransitVectorFile>(fileName);
  let dir: string;
  let kms: LocalKms;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-transit-vectors-'));
    const path = join(dir, 'kms.json');
    await writeFile(path, JSON.stringify(file.kmsFile));
    await chmod(path, 0o600);
    kms = await LocalKms.open(path);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the KMS file holds every key, and the vectors span versions', () => {
    expect(kms.listKeys()).toEqual(keys);
    expect(new Set(file.ciphertexts.map((v) => versionOf(v.ciphertext))).size).toBeGreaterThan(1);
    expect(file.ciphertexts.some((v) => v.associatedData !== undefined)).toBe(true);
    expect(file.ciphertexts.some((v) => v.context !== undefined)).toBe(true);
  });

  it.each(file.ciphertexts.map((v) => [v.name, v] as const))('%s decrypts', (_name, v) => {
    const options = {
      ...(v.context === undefined ? {} : { context: b64(v.context) as Buffer }),
      ...(v.associatedData === undefined
        ? {}
        : { associatedData: b64(v.associatedData) as Buffer }),
    };
    expect(kms.decrypt(v.key, v.ciphertext, options).toString('base64')).toBe(v.plaintext);
    if (v.deterministic) {
      const again = kms.encrypt(v.key, b64(v.plaintext) as Buffer, {
        ...options,
        keyVersion: versionOf(v.ciphertext),
      });
      expect(again.ciphertext).toBe(v.ciphertext);
    }
  });

  it.each(file.hmacs.map((v) => [v.name, v] as const))('%s: HMAC recomputed', (_name, v) => {
    const input = b64(v.input) as Buffer;
    expect(kms.hmac(v.key, input, { algorithm: v.algorithm, keyVersion: v.keyVersion })).toBe(
      v.hmac,
    );
    expect(kms.verifyHmac(v.key, input, v.hmac, v.algorithm)).toBe(true);
  });

  it.each(file.signatures.map((v) => [v.name, v] as const))(
    '%s: signature verifies',
    (_name, v) => {
      const input = b64(v.input) as Buffer;
      const options = {
        marshalingAlgorithm: v.marshalingAlgorithm,
        ...(v.hashAlgorithm === undefined ? {} : { hashAlgorithm: v.hashAlgorithm }),
        ...(v.signatureAlgorithm === undefined ? {} : { signatureAlgorithm: v.signatureAlgorithm }),
        ...(v.saltLength === undefined ? {} : { saltLength: v.saltLength }),
      };
      expect(kms.verify(v.key, input, v.signature, options)).toBe(true);
      expect(kms.verify(v.key, Buffer.from('something else'), v.signature, options)).toBe(false);
      if (v.deterministic) {
        expect(kms.sign(v.key, input, { ...options, keyVersion: v.keyVersion }).signature).toBe(
          v.signature,
        );
      }
    },
  );
});
