/**
 * The key types beyond the first five (aes128-gcm96, ecdsa-p384, ecdsa-p521, rsa-2048/3072/4096)
 * over HTTP: every value they make is in a standard format, checked with bare node:crypto and the
 * public (or exported) key the server hands out; and the key's life — rotation, the version
 * floors, trimming, backup and restore, export — works for them as for the others.
 */
import {
  constants,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign as signNode,
  verify as verifyNode,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
const PAYLOAD = Buffer.from('release 4.2.0 manifest');
const bodyOf = (value: string, urlSafe = false) =>
  Buffer.from(value.replace(/^vault:v\d+:/, ''), urlSafe ? 'base64url' : 'base64');
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

describe.each(await storageKinds())('transit key types on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    for (const [name, type] of [
      ['rsa2', 'rsa-2048'],
      ['rsa3', 'rsa-3072'],
      ['rsa4', 'rsa-4096'],
      ['p384', 'ecdsa-p384'],
      ['p521', 'ecdsa-p521'],
      ['aes128', 'aes128-gcm96'],
    ] as const) {
      const created = await s.request('POST', `transit/keys/${name}`, {
        body: { type, exportable: true, allow_plaintext_backup: true },
      });
      expect(created.status).toBe(200);
    }
  }, 60_000);
  afterAll(async () => {
    await s.close();
  });

  const publicKey = async (name: string, version = 1) =>
    (await s.request('GET', `transit/keys/${name}`)).body.data.keys[String(version)]
      .public_key as string;
  const exported = async (type: string, name: string, version = 1) =>
    (await s.request('GET', `transit/export/${type}/${name}/${version}`)).body.data.keys[
      String(version)
    ] as string;
  const sign = (name: string, params: Record<string, unknown> = {}) =>
    s.request('POST', `transit/sign/${name}`, { body: { input: b64(PAYLOAD), ...params } });
  const verify = (name: string, signature: string, params: Record<string, unknown> = {}) =>
    s.request('POST', `transit/verify/${name}`, {
      body: { input: b64(PAYLOAD), signature, ...params },
    });
  const encrypt = (name: string, plaintext: Buffer, params: Record<string, unknown> = {}) =>
    s.request('POST', `transit/encrypt/${name}`, {
      body: { plaintext: b64(plaintext), ...params },
    });
  const decrypt = (name: string, ciphertext: string, params: Record<string, unknown> = {}) =>
    s.request('POST', `transit/decrypt/${name}`, { body: { ciphertext, ...params } });

  it('describes each key as Vault does: supports_* by type, a PEM public key per version for the asymmetric ones', async () => {
    const rsa = (await s.request('GET', 'transit/keys/rsa2')).body.data;
    expect(rsa).toMatchObject({
      type: 'rsa-2048',
      supports_encryption: true,
      supports_decryption: true,
      supports_signing: true,
      supports_derivation: false,
      imported_key: false,
    });
    expect(rsa.keys['1'].name).toBe('rsa-2048');
    for (const [name, bits] of [
      ['rsa2', 2048],
      ['rsa3', 3072],
      ['rsa4', 4096],
    ] as const) {
      const key = createPublicKey(await publicKey(name));
      expect(key.asymmetricKeyType).toBe('rsa');
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(bits);
    }
    for (const [name, curve] of [
      ['p384', 'secp384r1'],
      ['p521', 'secp521r1'],
    ] as const) {
      const data = (await s.request('GET', `transit/keys/${name}`)).body.data;
      expect(data).toMatchObject({ supports_signing: true, supports_encryption: false });
      // Vault names an ECDSA version by its curve.
      expect(data.keys['1'].name).toBe(`P-${name.slice(1)}`);
      expect(createPublicKey(data.keys['1'].public_key).asymmetricKeyDetails?.namedCurve).toBe(
        curve,
      );
    }
    const aes = (await s.request('GET', 'transit/keys/aes128')).body.data;
    expect(aes).toMatchObject({
      supports_encryption: true,
      supports_signing: false,
      supports_derivation: true,
    });
    expect(Buffer.from(await exported('encryption-key', 'aes128'), 'base64')).toHaveLength(16);
  });

  it('rsa-*: encrypts with RSA-OAEP (SHA-256) both ways with node:crypto, refuses what OAEP cannot carry', async () => {
    for (const [name, bits] of [
      ['rsa2', 2048],
      ['rsa4', 4096],
    ] as const) {
      const secret = randomBytes(32);
      const ciphertext = (await encrypt(name, secret)).body.data.ciphertext as string;
      expect(ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
      expect(bodyOf(ciphertext)).toHaveLength(bits / 8);
      // The exported private key (PKCS#8 DER) opens it with bare node:crypto.
      const privateKey = createPrivateKey({
        key: Buffer.from(await exported('encryption-key', name), 'base64'),
        format: 'der',
        type: 'pkcs8',
      });
      expect(privateDecrypt({ key: privateKey, ...OAEP }, bodyOf(ciphertext))).toEqual(secret);
      // And what a client encrypts to the public key, the server opens.
      const local = publicEncrypt({ key: await publicKey(name), ...OAEP }, secret);
      expect((await decrypt(name, `vault:v1:${b64(local)}`)).body.data.plaintext).toBe(b64(secret));
    }
    const most = 2048 / 8 - 66;
    expect((await encrypt('rsa2', randomBytes(most))).status).toBe(200);
    const tooLong = await encrypt('rsa2', randomBytes(most + 1));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0]).toMatch(/too long for RSA-OAEP.*at most 190 bytes/);
    expect(
      await encrypt('rsa2', Buffer.from('x'), { associated_data: b64('row 1') }),
    ).toMatchObject({
      status: 400,
      body: { errors: ['associated_data is not supported by key type rsa-2048'] },
    });
    expect(await encrypt('rsa2', Buffer.from('x'), { context: b64('tenant') })).toMatchObject({
      status: 400,
      body: { errors: ['key was not created as a derived key, but a context was provided'] },
    });
  });

  it('rsa-*: padding_scheme oaep is accepted, anything else refused (no silent OAEP for a PKCS#1 v1.5 reader)', async () => {
    const ok = await encrypt('rsa2', Buffer.from('x'), { padding_scheme: 'oaep' });
    expect(ok.status).toBe(200);
    const expected = {
      status: 400,
      body: { errors: ['unsupported padding_scheme; custos encrypts with RSA keys by oaep only'] },
    };
    expect(await encrypt('rsa2', Buffer.from('x'), { padding_scheme: 'pkcs1v15' })).toMatchObject(
      expected,
    );
    expect(
      await encrypt('rsa2', Buffer.from('x'), {
        batch_input: [{ plaintext: b64('a') }, { plaintext: b64('b'), padding_scheme: 'pkcs1v15' }],
      }),
    ).toMatchObject(expected);
    expect(
      await decrypt('rsa2', ok.body.data.ciphertext, { padding_scheme: 'pkcs1v15' }),
    ).toMatchObject(expected);
    expect(
      await s.request('POST', 'transit/rewrap/rsa2', {
        body: { ciphertext: ok.body.data.ciphertext, padding_scheme: 'PKCS1v15' },
      }),
    ).toMatchObject(expected);
    expect(
      await s.request('POST', 'transit/datakey/wrapped/rsa2', {
        body: { padding_scheme: 'pkcs1v15' },
      }),
    ).toMatchObject(expected);
  });

  it('rsa-*: a changed ciphertext never decrypts (one message whatever changed)', async () => {
    const ciphertext = (await encrypt('rsa2', Buffer.from('pin 1234'))).body.data.ciphertext;
    const bytes = bodyOf(ciphertext);
    for (const at of [0, 1, 100, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[at] = (changed[at] as number) ^ 0x01;
      const refused = await decrypt('rsa2', `vault:v1:${b64(changed)}`);
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual(['crypto/rsa: decryption error']);
    }
    const short = await decrypt('rsa2', `vault:v1:${b64(bytes.subarray(1))}`);
    expect(short.body.errors).toEqual(['crypto/rsa: decryption error']);
  });

  it('rsa-*: signs with PSS (default, salt auto) and PKCS#1 v1.5, asn1 and jws; node:crypto verifies each with the public key', async () => {
    const pem = await publicKey('rsa2');
    const pss = (await sign('rsa2')).body.data.signature as string;
    expect(
      verifyNode(
        'sha256',
        PAYLOAD,
        {
          key: pem,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        },
        bodyOf(pss),
      ),
    ).toBe(true);
    // Vault's auto salt when signing is the largest: 256 - 32 - 2 bytes.
    expect(
      verifyNode(
        'sha256',
        PAYLOAD,
        { key: pem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 222 },
        bodyOf(pss),
      ),
    ).toBe(true);
    const hashSalt = (await sign('rsa2', { salt_length: 'hash' })).body.data.signature;
    expect(
      verifyNode(
        'sha256',
        PAYLOAD,
        { key: pem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        bodyOf(hashSalt),
      ),
    ).toBe(true);
    const pkcs1 = (await sign('rsa2', { signature_algorithm: 'pkcs1v15' })).body.data.signature;
    expect(
      verifyNode(
        'sha256',
        PAYLOAD,
        { key: pem, padding: constants.RSA_PKCS1_PADDING },
        bodyOf(pkcs1),
      ),
    ).toBe(true);
    // RS512 as a JWS: PKCS#1 v1.5, SHA-512, base64url.
    const rs512 = (
      await sign('rsa2', {
        signature_algorithm: 'pkcs1v15',
        hash_algorithm: 'sha2-512',
        marshaling_algorithm: 'jws',
      })
    ).body.data.signature as string;
    expect(rs512).toMatch(/^vault:v1:[A-Za-z0-9_-]+$/);
    expect(verifyNode('sha512', PAYLOAD, pem, bodyOf(rs512, true))).toBe(true);

    expect((await verify('rsa2', pss)).body.data.valid).toBe(true);
    expect((await verify('rsa2', hashSalt, { salt_length: 'hash' })).body.data.valid).toBe(true);
    expect((await verify('rsa2', pkcs1, { signature_algorithm: 'pkcs1v15' })).body.data.valid).toBe(
      true,
    );
    expect(
      (
        await verify('rsa2', rs512, {
          signature_algorithm: 'pkcs1v15',
          hash_algorithm: 'sha2-512',
          marshaling_algorithm: 'jws',
        })
      ).body.data.valid,
    ).toBe(true);
    // A signature under one scheme or hash does not verify under another.
    expect((await verify('rsa2', pkcs1)).body.data.valid).toBe(false);
    expect((await verify('rsa2', pss, { signature_algorithm: 'pkcs1v15' })).body.data.valid).toBe(
      false,
    );
    expect((await verify('rsa2', pss, { hash_algorithm: 'sha2-384' })).body.data.valid).toBe(false);
    // A signature node:crypto makes with the exported signing key verifies here.
    const signingKey = createPrivateKey({
      key: Buffer.from(await exported('signing-key', 'rsa2'), 'base64'),
      format: 'der',
      type: 'pkcs8',
    });
    const local = signNode('sha256', PAYLOAD, {
      key: signingKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    expect((await verify('rsa2', `vault:v1:${b64(local)}`)).body.data.valid).toBe(true);
  });

  it('rsa-*: refuses a bad signature_algorithm or salt_length for the whole request, and both for non-RSA keys', async () => {
    for (const params of [
      { signature_algorithm: 'pss256' },
      { signature_algorithm: 'PSS' },
      { salt_length: 'max' },
      { salt_length: 223 },
      { salt_length: -1 },
      { signature_algorithm: 'pkcs1v15', salt_length: 'hash' },
    ]) {
      const refused = await sign('rsa2', params);
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toMatch(/signature_algorithm|salt_length/);
      const batch = await sign('rsa2', {
        ...params,
        batch_input: [{ input: b64('a') }, { input: b64('b') }],
      });
      expect(batch.status).toBe(400);
    }
    expect((await sign('rsa2', { salt_length: 222 })).status).toBe(200);
    expect((await sign('rsa2', { salt_length: '0' })).status).toBe(200);
    for (const name of ['p384', 'p521']) {
      expect(await sign(name, { signature_algorithm: 'pss' })).toMatchObject({
        status: 400,
        body: {
          errors: [expect.stringMatching(/apply to RSA keys only/)],
        },
      });
    }
  });

  it('ecdsa-p384 and ecdsa-p521: asn1 (DER) and jws (r‖s), any sha2 hash (default sha2-256, as Vault); node:crypto verifies', async () => {
    for (const [name, size] of [
      ['p384', 48],
      ['p521', 66],
    ] as const) {
      const pem = await publicKey(name);
      const asn1 = (await sign(name)).body.data.signature as string;
      expect(verifyNode('sha256', PAYLOAD, pem, bodyOf(asn1))).toBe(true);
      const es = (await sign(name, { hash_algorithm: 'sha2-384', marshaling_algorithm: 'jws' }))
        .body.data.signature as string;
      expect(bodyOf(es, true)).toHaveLength(2 * size);
      expect(
        verifyNode('sha384', PAYLOAD, { key: pem, dsaEncoding: 'ieee-p1363' }, bodyOf(es, true)),
      ).toBe(true);
      const sha512 = (await sign(name, { hash_algorithm: 'sha2-512' })).body.data.signature;
      expect(verifyNode('sha512', PAYLOAD, pem, bodyOf(sha512))).toBe(true);
      expect((await verify(name, asn1)).body.data.valid).toBe(true);
      expect(
        (await verify(name, es, { hash_algorithm: 'sha2-384', marshaling_algorithm: 'jws' })).body
          .data.valid,
      ).toBe(true);
      expect((await verify(name, sha512)).body.data.valid).toBe(false);
      expect((await encrypt(name, Buffer.from('x'))).body.errors).toEqual([
        `key type ecdsa-${name} does not support encryption`,
      ]);
    }
  });

  it('aes128-gcm96: nonce ‖ ciphertext ‖ 16-byte tag under the exported 16-byte key; derived and convergent keys too', async () => {
    const plaintext = Buffer.from('4111 1111 1111 1111');
    const aad = Buffer.from('cards/7');
    const ciphertext = (await encrypt('aes128', plaintext, { associated_data: b64(aad) })).body.data
      .ciphertext as string;
    const bytes = bodyOf(ciphertext);
    expect(bytes).toHaveLength(12 + plaintext.length + 16);
    const key = Buffer.from(await exported('encryption-key', 'aes128'), 'base64');
    const decipher = createDecipheriv('aes-128-gcm', key, bytes.subarray(0, 12), {
      authTagLength: 16,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    expect(
      Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]),
    ).toEqual(plaintext);
    expect(
      (await decrypt('aes128', ciphertext, { associated_data: b64(aad) })).body.data.plaintext,
    ).toBe(b64(plaintext));
    expect((await decrypt('aes128', ciphertext)).body.errors).toEqual([
      'cipher: message authentication failed',
    ]);

    await s.request('POST', 'transit/keys/aes128-conv', {
      body: { type: 'aes128-gcm96', derived: true, convergent_encryption: true },
    });
    const context = b64('tenant-7');
    const first = (await encrypt('aes128-conv', plaintext, { context })).body.data.ciphertext;
    expect((await encrypt('aes128-conv', plaintext, { context })).body.data.ciphertext).toBe(first);
    expect(
      (await encrypt('aes128-conv', plaintext, { context: b64('tenant-8') })).body.data.ciphertext,
    ).not.toBe(first);
    expect((await decrypt('aes128-conv', first, { context })).body.data.plaintext).toBe(
      b64(plaintext),
    );
    expect((await decrypt('aes128-conv', first, { context: b64('tenant-8') })).status).toBe(400);
    // An encrypt may create an aes128-gcm96 key (upsert), as in Vault.
    const upserted = await encrypt('aes128-upsert', plaintext, { type: 'aes128-gcm96' });
    expect(upserted.status).toBe(200);
    expect((await s.request('GET', 'transit/keys/aes128-upsert')).body.data.type).toBe(
      'aes128-gcm96',
    );
  });

  it('rotation, rewrap, datakey, min_decryption_version and trim work for RSA and the new curves', async () => {
    await s.request('POST', 'transit/keys/rsa-life', { body: { type: 'rsa-2048' } });
    await s.request('POST', 'transit/keys/p384-life', { body: { type: 'ecdsa-p384' } });
    const v1 = (await encrypt('rsa-life', Buffer.from('old'))).body.data.ciphertext as string;
    const sig1 = (await sign('p384-life')).body.data.signature as string;
    for (const name of ['rsa-life', 'p384-life']) {
      expect((await s.request('POST', `transit/keys/${name}/rotate`, { body: {} })).status).toBe(
        200,
      );
    }
    const described = (await s.request('GET', 'transit/keys/rsa-life')).body.data;
    expect(described.latest_version).toBe(2);
    expect(described.keys['2'].public_key).not.toBe(described.keys['1'].public_key);
    const rewrapped = (
      await s.request('POST', 'transit/rewrap/rsa-life', { body: { ciphertext: v1 } })
    ).body.data.ciphertext as string;
    expect(rewrapped).toMatch(/^vault:v2:/);
    expect((await decrypt('rsa-life', rewrapped)).body.data.plaintext).toBe(b64('old'));
    const datakey = (await s.request('POST', 'transit/datakey/plaintext/rsa-life', { body: {} }))
      .body.data;
    expect((await decrypt('rsa-life', datakey.ciphertext)).body.data.plaintext).toBe(
      datakey.plaintext,
    );
    const sig2 = (await sign('p384-life')).body.data.signature as string;
    expect(sig2).toMatch(/^vault:v2:/);
    expect(verifyNode('sha256', PAYLOAD, await publicKey('p384-life', 2), bodyOf(sig2))).toBe(true);

    for (const name of ['rsa-life', 'p384-life']) {
      await s.request('POST', `transit/keys/${name}/config`, {
        body: { min_decryption_version: 2 },
      });
    }
    expect((await decrypt('rsa-life', v1)).body.errors).toEqual([
      'ciphertext or signature version is disallowed by policy (too old)',
    ]);
    expect((await verify('p384-life', sig1)).body.errors).toEqual([
      'ciphertext or signature version is disallowed by policy (too old)',
    ]);
    expect(Object.keys((await s.request('GET', 'transit/keys/p384-life')).body.data.keys)).toEqual([
      '2',
    ]);
    for (const name of ['rsa-life', 'p384-life']) {
      const trimmed = await s.request('POST', `transit/keys/${name}/trim`, {
        body: { min_available_version: 2 },
      });
      expect(trimmed.body.data.min_available_version).toBe(2);
    }
    expect((await verify('p384-life', sig2)).body.data.valid).toBe(true);
    expect((await decrypt('rsa-life', rewrapped)).body.data.plaintext).toBe(b64('old'));
  });

  it('backup and restore carry RSA, P-521 and AES-128 keys whole: values made before verify and decrypt after', async () => {
    const made = {
      rsa3: (await encrypt('rsa3', Buffer.from('kept'))).body.data.ciphertext as string,
      p521: (await sign('p521')).body.data.signature as string,
      aes128: (await encrypt('aes128', Buffer.from('kept'))).body.data.ciphertext as string,
    };
    for (const name of Object.keys(made)) {
      const backup = (await s.request('GET', `transit/backup/${name}`)).body.data.backup;
      const restored = await s.request('POST', `transit/restore/${name}-copy`, {
        body: { backup },
      });
      expect(restored.status).toBe(204);
      expect((await s.request('GET', `transit/keys/${name}-copy`)).body.data.keys['1']).toEqual(
        (await s.request('GET', `transit/keys/${name}`)).body.data.keys['1'],
      );
    }
    expect((await decrypt('rsa3-copy', made.rsa3)).body.data.plaintext).toBe(b64('kept'));
    expect((await decrypt('aes128-copy', made.aes128)).body.data.plaintext).toBe(b64('kept'));
    expect((await verify('p521-copy', made.p521)).body.data.valid).toBe(true);
    // The public keys leave every key that verifies, exportable or not.
    await s.request('POST', 'transit/keys/p521-closed', { body: { type: 'ecdsa-p521' } });
    const pub = await s.request('GET', 'transit/export/public-key/p521-closed');
    expect(createPublicKey(pub.body.data.keys['1']).asymmetricKeyType).toBe('ec');
    expect((await s.request('GET', 'transit/export/signing-key/p521-closed')).status).toBe(400);
    expect((await s.request('GET', 'transit/export/encryption-key/p521')).body.errors).toEqual([
      'key type ecdsa-p521 has no encryption-key',
    ]);
  });

  it('keeps answering while an RSA-4096 key is made (key pairs are generated off the event loop)', async () => {
    let done = false;
    const creating = s
      .request('POST', 'transit/keys/rsa4-busy', { body: { type: 'rsa-4096' } })
      .finally(() => {
        done = true;
      });
    let answered = 0;
    while (!done) {
      expect((await s.request('GET', 'sys/health')).status).toBe(200);
      answered++;
    }
    expect((await creating).status).toBe(200);
    // Generated on the event loop, the key would hold every other request until it is made.
    expect(answered).toBeGreaterThanOrEqual(5);
    const rotating = s.request('POST', 'transit/keys/rsa4-busy/rotate', { body: {} });
    let rotated = false;
    void rotating.finally(() => {
      rotated = true;
    });
    let answeredDuringRotation = 0;
    while (!rotated) {
      await s.request('GET', 'sys/health');
      answeredDuringRotation++;
    }
    expect((await rotating).body.data.latest_version).toBe(2);
    expect(answeredDuringRotation).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('refuses an unknown type, naming the ones there are', async () => {
    const refused = await s.request('POST', 'transit/keys/bad', { body: { type: 'rsa-1024' } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/rsa-2048, rsa-3072, rsa-4096/);
    expect(
      (await s.request('POST', 'transit/keys/bad', { body: { type: 'rsa-2048', derived: true } }))
        .body.errors,
    ).toEqual(['key derivation is not supported for rsa-2048 keys']);
  });
});
