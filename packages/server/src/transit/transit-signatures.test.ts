import { createPublicKey, verify as verifyNode } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const PAYLOAD = Buffer.from('invoice 2026-0042: 118.00 EUR');
const TOO_LOW = 'requested version for encryption is less than the minimum encryption key version';
const body = (signature: string, urlSafe = false) =>
  Buffer.from(signature.replace(/^vault:v\d+:/, ''), urlSafe ? 'base64url' : 'base64');

describe.each(await storageKinds())('transit signatures and minimum versions on %s', (kind) => {
  let s: TestServer;
  let ecPem: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.request('POST', 'transit/keys/ec', { body: { type: 'ecdsa-p256' } });
    await s.request('POST', 'transit/keys/ed', { body: { type: 'ed25519' } });
    ecPem = (await s.request('GET', 'transit/keys/ec')).body.data.keys['1'].public_key;
  });
  afterAll(async () => {
    await s.close();
  });

  const sign = (name: string, params: Record<string, unknown>, algorithm?: string) =>
    s.request('POST', `transit/sign/${name}${algorithm ? `/${algorithm}` : ''}`, {
      body: { input: PAYLOAD.toString('base64'), ...params },
    });
  const verify = (name: string, params: Record<string, unknown>, algorithm?: string) =>
    s.request('POST', `transit/verify/${name}${algorithm ? `/${algorithm}` : ''}`, {
      body: { input: PAYLOAD.toString('base64'), ...params },
    });

  it('ecdsa-p256 signs as asn1 (DER, base64) and jws (r‖s, base64url); both verify here and with bare node:crypto', async () => {
    const asn1 = (await sign('ec', {})).body.data.signature as string;
    expect(asn1).toMatch(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
    expect(verifyNode('sha256', PAYLOAD, ecPem, body(asn1))).toBe(true);
    const explicit = (await sign('ec', { marshaling_algorithm: 'asn1' })).body.data.signature;
    expect(verifyNode('sha256', PAYLOAD, ecPem, body(explicit))).toBe(true);

    const jws = (await sign('ec', { marshaling_algorithm: 'jws' })).body.data.signature as string;
    expect(jws).toMatch(/^vault:v1:[A-Za-z0-9_-]{86}$/);
    expect(
      verifyNode('sha256', PAYLOAD, { key: ecPem, dsaEncoding: 'ieee-p1363' }, body(jws, true)),
    ).toBe(true);

    expect((await verify('ec', { signature: asn1 })).body.data.valid).toBe(true);
    expect(
      (await verify('ec', { signature: jws, marshaling_algorithm: 'jws' })).body.data.valid,
    ).toBe(true);
    expect(
      (await verify('ec', { signature: asn1, input: b64('another invoice') })).body.data.valid,
    ).toBe(false);
    // A jws signature read as asn1 never verifies (it is refused or invalid).
    expect((await verify('ec', { signature: jws })).body.data?.valid).not.toBe(true);
  });

  it('hash_algorithm in the body or the URL; a signature over one hash does not verify under another', async () => {
    const sha384 = (await sign('ec', { hash_algorithm: 'sha2-384' })).body.data.signature;
    expect(verifyNode('sha384', PAYLOAD, ecPem, body(sha384))).toBe(true);
    const sha512 = (await sign('ec', {}, 'sha2-512')).body.data.signature;
    expect(verifyNode('sha512', PAYLOAD, ecPem, body(sha512))).toBe(true);
    expect(
      (await verify('ec', { signature: sha384, hash_algorithm: 'sha2-384' })).body.data.valid,
    ).toBe(true);
    expect((await verify('ec', { signature: sha384 }, 'sha2-384')).body.data.valid).toBe(true);
    expect((await verify('ec', { signature: sha512 }, 'sha2-512')).body.data.valid).toBe(true);
    expect((await verify('ec', { signature: sha384 })).body.data.valid).toBe(false);
    for (const hash of ['sha3-256', 'md5']) {
      const refused = await sign('ec', { hash_algorithm: hash });
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toMatch(/unsupported (hash )?algorithm/);
    }
  });

  it('ed25519 with jws: the signature in base64url, as Vault does for every key type', async () => {
    const plain = (await sign('ed', {})).body.data.signature as string;
    const jws = (await sign('ed', { marshaling_algorithm: 'jws' })).body.data.signature as string;
    expect(plain).toMatch(/^vault:v1:[A-Za-z0-9+/]{86}==$/);
    expect(jws).toMatch(/^vault:v1:[A-Za-z0-9_-]{86}$/);
    expect(body(jws, true)).toEqual(body(plain)); // ed25519 signatures are deterministic
    const raw = (await s.request('GET', 'transit/keys/ed')).body.data.keys['1'].public_key;
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw, 'base64').toString('base64url') },
      format: 'jwk',
    });
    expect(verifyNode(null, PAYLOAD, publicKey, body(jws, true))).toBe(true);
    expect(
      (await verify('ed', { signature: jws, marshaling_algorithm: 'jws' })).body.data.valid,
    ).toBe(true);
    expect((await verify('ed', { signature: plain })).body.data.valid).toBe(true);
  });

  it('refuses an unknown marshaling_algorithm with a 400, for sign and verify, single and batch', async () => {
    const signature = (await sign('ec', {})).body.data.signature;
    for (const name of ['ec', 'ed']) {
      for (const marshaling of ['pem', 'ASN1', '']) {
        const expected = {
          status: 400,
          body: { errors: ['invalid marshaling type; use asn1 or jws'] },
        };
        expect(await sign(name, { marshaling_algorithm: marshaling })).toMatchObject(expected);
        expect(
          await sign(name, {
            marshaling_algorithm: marshaling,
            batch_input: [{ input: b64('a') }, { input: b64('b') }],
          }),
        ).toMatchObject(expected);
        expect(await verify(name, { signature, marshaling_algorithm: marshaling })).toMatchObject(
          expected,
        );
      }
    }
  });

  it('min_encryption_version: older versions no longer encrypt, sign or HMAC, and still decrypt and verify', async () => {
    await s.request('POST', 'transit/keys/minenc', { body: {} });
    await s.request('POST', 'transit/keys/minsig', { body: { type: 'ecdsa-p256' } });
    const v1 = (
      await s.request('POST', 'transit/encrypt/minenc', { body: { plaintext: b64('old') } })
    ).body.data.ciphertext;
    const sig1 = (await sign('minsig', {})).body.data.signature;
    for (let i = 0; i < 2; i++) {
      await s.request('POST', 'transit/keys/minenc/rotate', { body: {} });
      await s.request('POST', 'transit/keys/minsig/rotate', { body: {} });
    }
    expect(
      (
        await s.request('POST', 'transit/keys/minenc/config', {
          body: { min_encryption_version: 4 },
        })
      ).body.errors,
    ).toEqual(['min_encryption_version cannot be larger than the latest version']);
    for (const name of ['minenc', 'minsig']) {
      const configured = await s.request('POST', `transit/keys/${name}/config`, {
        body: { min_encryption_version: '2' },
      });
      expect(configured.body.data).toMatchObject({
        min_encryption_version: 2,
        min_decryption_version: 1,
      });
    }
    const enc = (params: Record<string, unknown>) =>
      s.request('POST', 'transit/encrypt/minenc', { body: { plaintext: b64('new'), ...params } });
    expect(await enc({ key_version: 1 })).toMatchObject({
      status: 400,
      body: { errors: [TOO_LOW] },
    });
    expect((await enc({ key_version: 2 })).body.data.ciphertext).toMatch(/^vault:v2:/);
    expect((await enc({})).body.data.ciphertext).toMatch(/^vault:v3:/);
    expect(
      await s.request('POST', 'transit/rewrap/minenc', {
        body: { ciphertext: v1, key_version: 1 },
      }),
    ).toMatchObject({ status: 400, body: { errors: [TOO_LOW] } });
    expect(
      await s.request('POST', 'transit/hmac/minenc', { body: { input: b64('m'), key_version: 1 } }),
    ).toMatchObject({ status: 400, body: { errors: [TOO_LOW] } });
    expect(await sign('minsig', { key_version: 1 })).toMatchObject({
      status: 400,
      body: { errors: [TOO_LOW] },
    });
    expect((await sign('minsig', { key_version: 2 })).body.data.signature).toMatch(/^vault:v2:/);
    // Decryption and verification follow min_decryption_version, still 1.
    expect(
      (await s.request('POST', 'transit/decrypt/minenc', { body: { ciphertext: v1 } })).body.data
        .plaintext,
    ).toBe(b64('old'));
    expect((await verify('minsig', { signature: sig1 })).body.data.valid).toBe(true);
    expect(
      (
        await s.request('POST', 'transit/keys/minenc/config', {
          body: { min_decryption_version: 3 },
        })
      ).body.errors,
    ).toEqual(['min_encryption_version must be 0 or at least min_decryption_version']);
  });
});
