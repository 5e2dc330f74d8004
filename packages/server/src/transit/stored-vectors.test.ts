/**
 * Stored known-answer vectors of transit values (`transit-v1.json` and
 * `transit-key-types-v1.json` in `packages/test-support/vectors/`): each key's backup, restored through `transit/restore`, must
 * decrypt, verify and recompute the stored `vault:v<N>:` values over HTTP, and export the same key
 * material. The same file is read by LocalKms (`packages/core/src/kms/stored-vectors.test.ts`).
 */
import { decodeBackup } from '@custos/core/internal/transit';
import { readVectorFile, type TransitVectorFile } from '@custos/test-support/vectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const versionOf = (value: string) => Number(/^vault:v(\d+):/.exec(value)?.[1]);
const FILES = ['transit-v1.json', 'transit-key-types-v1.json'] as const;
const cases = (await storageKinds()).flatMap((kind) => FILES.map((name) => [name, kind] as const));

describe.each(cases)('stored transit vectors of %s on the server (%s)', (fileName, kind) => {
  const file = readVectorFile<TransitVectorFile>(fileName);
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    for (const backup of file.kmsFile.keys) {
      const restored = await s.request('POST', 'transit/restore', { body: { backup } });
      expect(restored.status).toBe(204);
    }
  });
  afterAll(async () => {
    await s.close();
  });

  it('exports exactly the stored key material of every version (encryption and signing keys)', async () => {
    for (const backup of file.kmsFile.keys) {
      const { policy, versions } = decodeBackup(backup);
      const exportType = versions.every((v) => v.key !== undefined)
        ? 'encryption-key'
        : 'signing-key';
      const exported = await s.request('GET', `transit/export/${exportType}/${policy.name}`);
      expect(exported.status).toBe(200);
      expect(exported.body.data.keys).toEqual(
        Object.fromEntries(versions.map((v) => [String(v.version), v.key ?? v.private_key])),
      );
    }
  });

  it.each(file.ciphertexts.map((v) => [v.name, v] as const))('%s decrypts', async (_name, v) => {
    const binding = {
      ...(v.context === undefined ? {} : { context: v.context }),
      ...(v.associatedData === undefined ? {} : { associated_data: v.associatedData }),
    };
    const decrypted = await s.request('POST', `transit/decrypt/${v.key}`, {
      body: { ciphertext: v.ciphertext, ...binding },
    });
    expect(decrypted.status).toBe(200);
    expect(decrypted.body.data.plaintext).toBe(v.plaintext);
    if (v.deterministic) {
      const again = await s.request('POST', `transit/encrypt/${v.key}`, {
        body: { plaintext: v.plaintext, key_version: versionOf(v.ciphertext), ...binding },
      });
      expect(again.body.data.ciphertext).toBe(v.ciphertext);
    }
  });

  it.each(file.hmacs.map((v) => [v.name, v] as const))('%s: HMAC recomputed', async (_name, v) => {
    const hmac = await s.request('POST', `transit/hmac/${v.key}/${v.algorithm}`, {
      body: { input: v.input, key_version: v.keyVersion },
    });
    expect(hmac.body.data.hmac).toBe(v.hmac);
    const verified = await s.request('POST', `transit/verify/${v.key}/${v.algorithm}`, {
      body: { input: v.input, hmac: v.hmac },
    });
    expect(verified.body.data.valid).toBe(true);
  });

  it.each(file.signatures.map((v) => [v.name, v] as const))(
    '%s: signature verifies',
    async (_name, v) => {
      const options = {
        marshaling_algorithm: v.marshalingAlgorithm,
        ...(v.hashAlgorithm === undefined ? {} : { hash_algorithm: v.hashAlgorithm }),
        ...(v.signatureAlgorithm === undefined
          ? {}
          : { signature_algorithm: v.signatureAlgorithm }),
        ...(v.saltLength === undefined ? {} : { salt_length: v.saltLength }),
      };
      const verified = await s.request('POST', `transit/verify/${v.key}`, {
        body: { input: v.input, signature: v.signature, ...options },
      });
      expect(verified.body.data.valid).toBe(true);
      if (v.deterministic) {
        const signed = await s.request('POST', `transit/sign/${v.key}`, {
          body: { input: v.input, key_version: v.keyVersion, ...options },
        });
        expect(signed.body.data.signature).toBe(v.signature);
      }
    },
  );
});
