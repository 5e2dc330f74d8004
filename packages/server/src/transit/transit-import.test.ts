/**
 * BYOK over HTTP, as Vault's key wrapping guide describes it: the client wraps an ephemeral
 * AES-256 key with RSA-OAEP under `transit/wrapping_key`, wraps its own key (raw bytes, or PKCS#8
 * DER) with that AES key by AES-KWP (RFC 5649), and sends both as `ciphertext`. The imported key
 * then works with values node:crypto makes and checks with the same key material; a bad import is
 * a clear 400 that stores nothing.
 */
import {
  constants,
  createCipheriv,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign as signNode,
  verify as verifyNode,
} from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
const PAYLOAD = Buffer.from('firmware 7.1 image digest');
const sigBody = (value: string, urlSafe = false) =>
  Buffer.from(value.replace(/^vault:v\d+:/, ''), urlSafe ? 'base64url' : 'base64');
const der = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'der' });

/** The client side of Vault's BYOK: OAEP-wrapped ephemeral AES-256 key ‖ KWP-wrapped target. */
function wrapForImport(wrappingPem: string, target: Buffer, oaepHash = 'sha256'): string {
  const ephemeral = randomBytes(32);
  const wrappedKey = publicEncrypt(
    { key: wrappingPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
    ephemeral,
  );
  const kwp = createCipheriv('id-aes256-wrap-pad', ephemeral, Buffer.from('a65959a6', 'hex'));
  return b64(Buffer.concat([wrappedKey, kwp.update(target), kwp.final()]));
}

describe.each(await storageKinds())('transit BYOK import on %s', (kind) => {
  let s: TestServer;
  let wrappingPem: string;
  let dir: string;
  let auditFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-byok-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer(kind, { audit: [{ type: 'file', path: auditFile, name: 'file' }] });
    const read = await s.request('GET', 'transit/wrapping_key');
    expect(read.status).toBe(200);
    wrappingPem = read.body.data.public_key;
  }, 60_000);
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const importKey = (name: string, body: Record<string, unknown>) =>
    s.request('POST', `transit/keys/${name}/import`, { body });
  const keyOf = (name: string) => s.request('GET', `transit/keys/${name}`);

  it('transit/wrapping_key is one RSA-4096 public key (PEM), the same on every read', async () => {
    const key = createPublicKey(wrappingPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(wrappingPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect((await s.request('GET', 'transit/wrapping_key')).body.data.public_key).toBe(wrappingPem);
  });

  it('an imported rsa-2048 key encrypts, decrypts, signs and verifies with node:crypto on the other side', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const imported = await importKey('byok-rsa', {
      type: 'rsa-2048',
      ciphertext: wrapForImport(wrappingPem, der(privateKey)),
    });
    expect(imported.status).toBe(204);
    const described = (await keyOf('byok-rsa')).body.data;
    expect(described).toMatchObject({
      type: 'rsa-2048',
      imported_key: true,
      imported_key_allow_rotation: false,
      latest_version: 1,
    });
    expect(described.keys['1'].public_key).toBe(
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );

    const secret = randomBytes(24);
    const ciphertext = (
      await s.request('POST', 'transit/encrypt/byok-rsa', { body: { plaintext: b64(secret) } })
    ).body.data.ciphertext as string;
    const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;
    expect(privateDecrypt({ key: privateKey, ...oaep }, sigBody(ciphertext))).toEqual(secret);
    const local = publicEncrypt({ key: publicKey, ...oaep }, secret);
    expect(
      (
        await s.request('POST', 'transit/decrypt/byok-rsa', {
          body: { ciphertext: `vault:v1:${b64(local)}` },
        })
      ).body.data.plaintext,
    ).toBe(b64(secret));

    const signed = (
      await s.request('POST', 'transit/sign/byok-rsa', { body: { input: b64(PAYLOAD) } })
    ).body.data.signature as string;
    expect(
      verifyNode(
        'sha256',
        PAYLOAD,
        {
          key: publicKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        },
        sigBody(signed),
      ),
    ).toBe(true);
    const rs256 = signNode('sha256', PAYLOAD, privateKey);
    expect(
      (
        await s.request('POST', 'transit/verify/byok-rsa', {
          body: {
            input: b64(PAYLOAD),
            signature: `vault:v1:${b64(rs256)}`,
            signature_algorithm: 'pkcs1v15',
          },
        })
      ).body.data.valid,
    ).toBe(true);
  });

  it('imports ecdsa-p384, ed25519, aes256-gcm96 and aes128-gcm96 keys, with any hash_function Vault takes', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(
      (
        await importKey('byok-p384', {
          type: 'ecdsa-p384',
          hash_function: 'SHA512',
          ciphertext: wrapForImport(wrappingPem, der(p384.privateKey), 'sha512'),
        })
      ).status,
    ).toBe(204);
    const es = (
      await s.request('POST', 'transit/sign/byok-p384', {
        body: { input: b64(PAYLOAD), hash_algorithm: 'sha2-384', marshaling_algorithm: 'jws' },
      })
    ).body.data.signature as string;
    expect(
      verifyNode(
        'sha384',
        PAYLOAD,
        { key: p384.publicKey, dsaEncoding: 'ieee-p1363' },
        sigBody(es, true),
      ),
    ).toBe(true);

    const ed = generateKeyPairSync('ed25519');
    expect(
      (
        await importKey('byok-ed', {
          type: 'ed25519',
          hash_function: 'sha1',
          ciphertext: wrapForImport(wrappingPem, der(ed.privateKey), 'sha1'),
        })
      ).status,
    ).toBe(204);
    const edSig = (
      await s.request('POST', 'transit/sign/byok-ed', { body: { input: b64(PAYLOAD) } })
    ).body.data.signature as string;
    expect(verifyNode(null, PAYLOAD, ed.publicKey, sigBody(edSig))).toBe(true);

    for (const [name, type, bytes, cipher] of [
      ['byok-aes256', 'aes256-gcm96', 32, 'aes-256-gcm'],
      ['byok-aes128', 'aes128-gcm96', 16, 'aes-128-gcm'],
    ] as const) {
      const key = randomBytes(bytes);
      // The default type is aes256-gcm96, as in Vault.
      const body = {
        ...(type === 'aes256-gcm96' ? {} : { type }),
        ciphertext: wrapForImport(wrappingPem, key),
      };
      expect((await importKey(name, body)).status).toBe(204);
      expect((await keyOf(name)).body.data.type).toBe(type);
      // A value sealed by the client under its own key, in transit's format, decrypts.
      const nonce = randomBytes(12);
      const gcm = createCipheriv(cipher, key, nonce, { authTagLength: 16 });
      const sealed = Buffer.concat([gcm.update('from the client'), gcm.final(), gcm.getAuthTag()]);
      const decrypted = await s.request('POST', `transit/decrypt/${name}`, {
        body: { ciphertext: `vault:v1:${b64(Buffer.concat([nonce, sealed]))}` },
      });
      expect(decrypted.body.data.plaintext).toBe(b64('from the client'));
    }
  });

  it('import_version adds the next version from new material; rotate needs allow_rotation', async () => {
    const first = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const second = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await importKey('byok-versions', {
      type: 'ecdsa-p256',
      ciphertext: wrapForImport(wrappingPem, der(first.privateKey)),
    });
    const sig1 = (
      await s.request('POST', 'transit/sign/byok-versions', { body: { input: b64(PAYLOAD) } })
    ).body.data.signature as string;
    const added = await s.request('POST', 'transit/keys/byok-versions/import_version', {
      body: { ciphertext: wrapForImport(wrappingPem, der(second.privateKey)) },
    });
    expect(added.status).toBe(204);
    const described = (await keyOf('byok-versions')).body.data;
    expect(described.latest_version).toBe(2);
    expect(described.keys['2'].public_key).toBe(
      second.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    const sig2 = (
      await s.request('POST', 'transit/sign/byok-versions', { body: { input: b64(PAYLOAD) } })
    ).body.data.signature as string;
    expect(sig2).toMatch(/^vault:v2:/);
    expect(verifyNode('sha256', PAYLOAD, second.publicKey, sigBody(sig2))).toBe(true);
    expect(
      (
        await s.request('POST', 'transit/verify/byok-versions', {
          body: { input: b64(PAYLOAD), signature: sig1 },
        })
      ).body.data.valid,
    ).toBe(true);

    // Without allow_rotation, custos makes no versions of its own for an imported key.
    const rotate = await s.request('POST', 'transit/keys/byok-versions/rotate', { body: {} });
    expect(rotate.status).toBe(400);
    expect(rotate.body.errors[0]).toMatch(/does not allow rotation within custos/);
    expect(
      (
        await s.request('POST', 'transit/keys/byok-versions/config', {
          body: { auto_rotate_period: '24h' },
        })
      ).body.errors,
    ).toEqual(['auto_rotate_period needs allow_rotation on an imported key']);

    await importKey('byok-rotating', {
      type: 'ecdsa-p256',
      allow_rotation: true,
      auto_rotate_period: '24h',
      ciphertext: wrapForImport(
        wrappingPem,
        der(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
      ),
    });
    const rotated = await s.request('POST', 'transit/keys/byok-rotating/rotate', { body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data).toMatchObject({
      latest_version: 2,
      imported_key: true,
      imported_key_allow_rotation: true,
    });

    // import_version is for imported keys only, and for keys that exist.
    await s.request('POST', 'transit/keys/generated', { body: { type: 'ecdsa-p256' } });
    const body = { ciphertext: wrapForImport(wrappingPem, der(second.privateKey)) };
    expect(
      (await s.request('POST', 'transit/keys/generated/import_version', { body })).body.errors,
    ).toEqual(['the import_version endpoint can only be used with an imported key']);
    expect(
      (await s.request('POST', 'transit/keys/nothing-here/import_version', { body })).body.errors,
    ).toEqual([
      'no key found with name nothing-here; to import a new key, use the import endpoint',
    ]);
    expect((await keyOf('generated')).body.data.latest_version).toBe(1);
  });

  it('refuses a bad import with a clear 400 and stores nothing (wrong type, bad wrapping, short keys, existing name)', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const good = wrapForImport(wrappingPem, der(p384));
    const flipped = Buffer.from(good, 'base64');
    flipped[600] = (flipped[600] as number) ^ 0x01;
    const flippedOaep = Buffer.from(good, 'base64');
    flippedOaep[10] = (flippedOaep[10] as number) ^ 0x01;
    const otherWrapping = generateKeyPairSync('rsa', { modulusLength: 4096 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const unwrap = /^the ciphertext does not unwrap/;
    const cases: [string, Record<string, unknown>, RegExp | string][] = [
      [
        'EC key as RSA',
        { type: 'rsa-2048', ciphertext: good },
        'the imported key is not an RSA key (type rsa-2048)',
      ],
      [
        'P-384 key as P-256',
        { type: 'ecdsa-p256', ciphertext: good },
        'the imported key is an ECDSA key on another curve than P-256 (type ecdsa-p256)',
      ],
      [
        'RSA-1024 key as rsa-2048',
        { type: 'rsa-2048', ciphertext: wrapForImport(wrappingPem, der(rsa1024)) },
        'the imported key is a 1024-bit RSA key, not 2048-bit (type rsa-2048)',
      ],
      [
        'a 16-byte key as aes256-gcm96',
        { ciphertext: wrapForImport(wrappingPem, randomBytes(16)) },
        'an imported aes256-gcm96 key must be 32 bytes (a raw key)',
      ],
      [
        'raw bytes as an RSA key',
        { type: 'rsa-2048', ciphertext: wrapForImport(wrappingPem, randomBytes(64)) },
        'the imported key is not a PKCS#8 private key',
      ],
      ['a changed KWP block', { type: 'ecdsa-p384', ciphertext: b64(flipped) }, unwrap],
      ['a changed OAEP block', { type: 'ecdsa-p384', ciphertext: b64(flippedOaep) }, unwrap],
      [
        'another wrapping key',
        { type: 'ecdsa-p384', ciphertext: wrapForImport(otherWrapping, der(p384)) },
        unwrap,
      ],
      [
        'the wrong hash_function',
        { type: 'ecdsa-p384', ciphertext: good, hash_function: 'SHA384' },
        unwrap,
      ],
      [
        'an unknown hash_function',
        { type: 'ecdsa-p384', ciphertext: good, hash_function: 'MD5' },
        'unknown hash function; use one of SHA1, SHA224, SHA256, SHA384, SHA512',
      ],
      [
        'a ciphertext of the OAEP block alone',
        { type: 'ecdsa-p384', ciphertext: b64(Buffer.from(good, 'base64').subarray(0, 512)) },
        'provided ciphertext is too short',
      ],
      ['no ciphertext', { type: 'ecdsa-p384' }, 'missing ciphertext'],
      ['an unknown type', { type: 'rsa-1024', ciphertext: good }, /^unknown key type; use one of/],
      [
        'convergent encryption',
        { ciphertext: good, convergent_encryption: true },
        'import cannot be used on keys with convergent encryption enabled',
      ],
      [
        'auto-rotation without allow_rotation',
        { type: 'ecdsa-p384', ciphertext: good, auto_rotate_period: '1h' },
        'allow_rotation must be set to true if auto-rotation is enabled',
      ],
      [
        'a public key only',
        { type: 'ecdsa-p384', public_key: 'pem' },
        /^public_key is not supported/,
      ],
      [
        'derivation of an RSA key',
        {
          type: 'rsa-2048',
          derived: true,
          ciphertext: wrapForImport(
            wrappingPem,
            der(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
          ),
        },
        'key derivation is not supported for rsa-2048 keys',
      ],
    ];
    for (const [label, body, message] of cases) {
      const refused = await importKey('byok-refused', body);
      expect(refused.status, label).toBe(400);
      if (typeof message === 'string') expect(refused.body.errors, label).toEqual([message]);
      else expect(refused.body.errors[0], label).toMatch(message);
      // The refusal quotes neither the wrapped nor the unwrapped key.
      expect(refused.text, label).not.toContain(String(body.ciphertext).slice(0, 40));
      expect(refused.text, label).not.toContain(der(p384).toString('base64').slice(40, 80));
    }
    expect((await keyOf('byok-refused')).status).toBe(404);
    expect((await s.request('LIST', 'transit/keys')).body.data.keys).not.toContain('byok-refused');

    // An existing name is refused, whether generated or imported, and left as it was.
    await s.request('POST', 'transit/keys/taken', { body: { type: 'ecdsa-p384' } });
    const before = (await keyOf('taken')).body.data.keys;
    expect(
      (await importKey('taken', { type: 'ecdsa-p384', ciphertext: good })).body.errors,
    ).toEqual([
      'the import path cannot be used with an existing key; use import_version to rotate an existing imported key',
    ]);
    expect((await keyOf('taken')).body.data.keys).toEqual(before);
  });

  it('two imports racing for one name: exactly one key, from one of them', async () => {
    const keys = [0, 1, 2].map(() => generateKeyPairSync('ec', { namedCurve: 'P-384' }));
    const results = await Promise.all(
      keys.map((k) =>
        importKey('byok-race', {
          type: 'ecdsa-p384',
          ciphertext: wrapForImport(wrappingPem, der(k.privateKey)),
        }),
      ),
    );
    expect(results.filter((r) => r.status === 204)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(2);
    const winner = keys[results.findIndex((r) => r.status === 204)] as (typeof keys)[number];
    expect((await keyOf('byok-race')).body.data.keys['1'].public_key).toBe(
      winner.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
  });

  it('revoked material is never imported again, under any name', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ciphertext = () => wrapForImport(wrappingPem, der(pair.privateKey));
    await importKey('byok-revoked', { type: 'ecdsa-p384', ciphertext: ciphertext() });
    await s.request('POST', 'transit/keys/byok-revoked/state', { body: { state: 'revoked' } });
    for (const name of ['byok-revoked-again', 'byok-revoked-copy']) {
      const refused = await importKey(name, { type: 'ecdsa-p384', ciphertext: ciphertext() });
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toMatch(/revoked with key byok-revoked/);
      expect((await keyOf(name)).status).toBe(404);
    }
    await importKey('byok-fresh', {
      type: 'ecdsa-p384',
      ciphertext: wrapForImport(
        wrappingPem,
        der(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey),
      ),
    });
    const again = await s.request('POST', 'transit/keys/byok-fresh/import_version', {
      body: { ciphertext: ciphertext() },
    });
    expect(again.status).toBe(400);
    expect((await keyOf('byok-fresh')).body.data.latest_version).toBe(1);
  });

  it('an imported key’s material never shows: not in answers, refusals or the audit log (planted canary)', async () => {
    const canary = Buffer.from(`byok-canary-${randomBytes(10).toString('hex')}`); // 32 bytes
    expect(canary).toHaveLength(32);
    const forms = [
      canary.toString('utf8'),
      canary.toString('hex'),
      canary.toString('base64'),
      canary.toString('base64url'),
    ];
    const accepted = wrapForImport(wrappingPem, canary);
    const refusedBody = wrapForImport(wrappingPem, canary.subarray(0, 24));
    const answers = [
      await importKey('byok-canary', { ciphertext: accepted }),
      await importKey('byok-canary-short', { ciphertext: refusedBody }),
      await importKey('byok-canary', { ciphertext: accepted }),
      await keyOf('byok-canary'),
      await s.request('POST', 'transit/encrypt/byok-canary', { body: { plaintext: b64('x') } }),
    ];
    expect(answers.map((a) => a.status)).toEqual([204, 400, 400, 200, 200]);
    const audit = await readFile(auditFile, 'utf8');
    expect(audit).toContain('transit/keys/byok-canary/import');
    for (const text of [...answers.map((a) => a.text), audit]) {
      for (const form of [...forms, accepted.slice(0, 60), refusedBody.slice(0, 60)])
        expect(text).not.toContain(form);
    }
  });

  it('authorisation: reading the wrapping key and importing are capabilities of their own paths', async () => {
    await s.policy('importer', {
      'transit/wrapping_key': ['read'],
      'transit/keys/+/import': ['update'],
    });
    await s.policy('reader', { 'transit/wrapping_key': ['read'] });
    const importer = await s.token({ policies: ['importer'] });
    const reader = await s.token({ policies: ['reader'] });
    const body = () => ({
      type: 'ecdsa-p384',
      ciphertext: wrapForImport(
        wrappingPem,
        der(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey),
      ),
    });
    expect(
      (await send(s.url, 'GET', 'transit/wrapping_key', { token: reader })).body.data.public_key,
    ).toBe(wrappingPem);
    expect(
      (await send(s.url, 'POST', 'transit/keys/team-a/import', { token: reader, body: body() }))
        .status,
    ).toBe(403);
    expect(
      (await send(s.url, 'POST', 'transit/keys/team-a/import', { token: importer, body: body() }))
        .status,
    ).toBe(204);
    expect(
      (
        await send(s.url, 'POST', 'transit/keys/team-a/import_version', {
          token: importer,
          body: body(),
        })
      ).status,
    ).toBe(403);
    expect((await keyOf('team-a')).body.data.latest_version).toBe(1);
    expect((await send(s.url, 'GET', 'transit/wrapping_key', { token: null })).status).toBe(403);
  });

  it('an imported key backs up and restores with its imported_key and allow_rotation', async () => {
    await importKey('byok-backup', {
      type: 'rsa-3072',
      exportable: true,
      allow_plaintext_backup: true,
      ciphertext: wrapForImport(
        wrappingPem,
        der(generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey),
      ),
    });
    const backup = (await s.request('GET', 'transit/backup/byok-backup')).body.data.backup;
    expect(
      (await s.request('POST', 'transit/restore/byok-backup-copy', { body: { backup } })).status,
    ).toBe(204);
    const copy = (await keyOf('byok-backup-copy')).body.data;
    expect(copy).toMatchObject({
      imported_key: true,
      imported_key_allow_rotation: false,
      type: 'rsa-3072',
    });
    expect(
      (await s.request('POST', 'transit/keys/byok-backup-copy/rotate', { body: {} })).status,
    ).toBe(400);
  });
});
