import { LocalKms } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const TOO_OLD = 'ciphertext or signature version is disallowed by policy (too old)';

describe.each(await storageKinds())('transit on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { transit: { counterBlock: 5, minRotateAfterEncryptions: 1 } });
  });
  afterAll(async () => {
    await s.close();
  });

  const encrypt = (name: string, body: Record<string, unknown>) =>
    s.request('POST', `transit/encrypt/${name}`, { body });
  const decrypt = (name: string, body: Record<string, unknown>) =>
    s.request('POST', `transit/decrypt/${name}`, { body });

  it("creates keys and reads them with Vault's fields", async () => {
    const created = await s.request('POST', 'transit/keys/orders', { body: {} });
    expect(created.status).toBe(200);
    const read = await s.request('GET', 'transit/keys/orders');
    expect(read.body.data).toMatchObject({
      name: 'orders',
      type: 'aes256-gcm96',
      derived: false,
      exportable: false,
      deletion_allowed: false,
      latest_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 0,
      supports_encryption: true,
      supports_decryption: true,
      supports_derivation: true,
      supports_signing: false,
      purpose: 'encryption',
      state: 'active',
    });
    expect(read.body.data.keys['1']).toEqual(expect.any(Number));
    await s.request('POST', 'transit/keys/signer', { body: { type: 'ed25519' } });
    const signer = await s.request('GET', 'transit/keys/signer');
    expect(signer.body.data.keys['1']).toMatchObject({
      name: 'ed25519',
      public_key: expect.any(String),
    });
    expect((await s.request('GET', 'transit/keys?list=true')).body.data.keys).toEqual([
      'orders',
      'signer',
    ]);
    expect((await s.request('GET', 'transit/keys/missing')).status).toBe(404);
    expect((await s.request('POST', 'transit/keys/bad', { body: { type: 'rot13' } })).status).toBe(
      400,
    );
    expect(
      (
        await s.request('POST', 'transit/keys/bad', {
          body: { type: 'ed25519', purpose: 'encryption' },
        })
      ).body.errors[0],
    ).toMatch(/can serve signing, jwt/);
  });

  it('encrypts and decrypts, with associated data bound', async () => {
    const { body } = await encrypt('orders', {
      plaintext: b64('card 4111'),
      associated_data: b64('row 7'),
    });
    expect(body.data.ciphertext).toMatch(/^vault:v1:/);
    expect(
      (await decrypt('orders', { ciphertext: body.data.ciphertext, associated_data: b64('row 7') }))
        .body.data.plaintext,
    ).toBe(b64('card 4111'));
    const wrongAd = await decrypt('orders', {
      ciphertext: body.data.ciphertext,
      associated_data: b64('row 8'),
    });
    expect(wrongAd).toMatchObject({
      status: 400,
      body: { errors: ['cipher: message authentication failed'] },
    });
    expect((await encrypt('orders', { plaintext: 'not base64!' })).body.errors).toEqual([
      'failed to base64-decode plaintext',
    ]);
    expect((await decrypt('orders', {})).body.errors).toEqual(['missing ciphertext to decrypt']);
    expect(await encrypt('orders', {})).toMatchObject({
      status: 400,
      body: { errors: ['missing plaintext to encrypt'] },
    });
    expect(await encrypt('never-created', { plaintext: null })).toMatchObject({
      status: 400,
      body: { errors: ['missing plaintext to encrypt'] },
    });
    expect((await s.request('GET', 'transit/keys/never-created')).status).toBe(404);
    expect((await decrypt('nokey', { ciphertext: body.data.ciphertext })).body.errors).toEqual([
      'encryption key not found',
    ]);
  });

  it('rotation: old ciphertexts decrypt; min_decryption_version refuses them; rewrap moves them; trim removes versions', async () => {
    await s.request('POST', 'transit/keys/rot', { body: {} });
    const v1 = (await encrypt('rot', { plaintext: b64('one') })).body.data.ciphertext;
    const rotated = await s.request('POST', 'transit/keys/rot/rotate', { body: {} });
    expect(rotated.body.data.latest_version).toBe(2);
    const v2 = (await encrypt('rot', { plaintext: b64('two') })).body.data.ciphertext;
    expect(v2).toMatch(/^vault:v2:/);
    expect((await decrypt('rot', { ciphertext: v1 })).body.data.plaintext).toBe(b64('one'));
    expect(
      (await decrypt('rot', { ciphertext: v1.replace('vault:v1:', 'vault:v3:') })).body.errors,
    ).toEqual(['invalid ciphertext: version is too new']);
    const rewrapped = await s.request('POST', 'transit/rewrap/rot', { body: { ciphertext: v1 } });
    expect(rewrapped.body.data).toMatchObject({
      key_version: 2,
      ciphertext: expect.stringMatching(/^vault:v2:/),
    });
    expect(rewrapped.text).not.toContain(b64('one'));
    await s.request('POST', 'transit/keys/rot/config', { body: { min_decryption_version: 2 } });
    expect((await decrypt('rot', { ciphertext: v1 })).body).toEqual({ errors: [TOO_OLD] });
    expect(
      (await decrypt('rot', { ciphertext: rewrapped.body.data.ciphertext })).body.data.plaintext,
    ).toBe(b64('one'));
    const trimmed = await s.request('POST', 'transit/keys/rot/trim', {
      body: { min_available_version: 2 },
    });
    expect(Object.keys(trimmed.body.data.keys)).toEqual(['2']);
    // Trimmed versions are gone: the floor never goes back down (Vault's rule and message).
    const lowered = await s.request('POST', 'transit/keys/rot/trim', {
      body: { min_available_version: 1 },
    });
    expect(lowered).toMatchObject({
      status: 400,
      body: { errors: ['minimum available version cannot be decremented'] },
    });
    expect((await s.request('GET', 'transit/keys/rot')).body.data.min_available_version).toBe(2);
    expect(
      (await s.request('POST', 'transit/keys/rot/config', { body: { min_decryption_version: 1 } }))
        .body.errors[0],
    ).toMatch(/cannot be below min_available_version/);
    expect((await decrypt('rot', { ciphertext: v1 })).status).toBe(400);
    expect(
      (await s.request('POST', 'transit/keys/rot/trim', { body: { min_available_version: 3 } }))
        .body.errors[0],
    ).toMatch(/higher than min_decryption_version/);
  });

  it('batches of 1,000 with bad items: the good succeed, each bad one has its error, the status is partial_failure_response_code', async () => {
    const batch = Array.from({ length: 1000 }, (_, i) =>
      i % 97 === 0
        ? { plaintext: 'bad base64!', reference: `r${i}` }
        : { plaintext: b64(`item ${i}`), reference: `r${i}` },
    );
    const encrypted = await encrypt('orders', {
      batch_input: batch,
      partial_failure_response_code: 207,
    });
    expect(encrypted.status).toBe(207);
    const results = encrypted.body.data.batch_results as {
      ciphertext?: string;
      error?: string;
      reference: string;
    }[];
    expect(results).toHaveLength(1000);
    for (const [i, result] of results.entries()) {
      expect(result.reference).toBe(`r${i}`);
      if (i % 97 === 0) expect(result.error).toBe('failed to base64-decode plaintext');
      else expect(result.ciphertext).toMatch(/^vault:v1:/);
    }
    const toDecrypt = results.map((r, i) => ({
      ciphertext: r.ciphertext ?? 'vault:v1:AAAA',
      reference: `d${i}`,
    }));
    const decrypted = await decrypt('orders', { batch_input: toDecrypt });
    expect(decrypted.status).toBe(400); // partial failure without an override code
    const plains = decrypted.body.data.batch_results as {
      plaintext?: string;
      error?: string;
      reference: string;
    }[];
    expect(plains).toHaveLength(1000);
    for (const [i, plain] of plains.entries()) {
      expect(plain.reference).toBe(`d${i}`);
      if (i % 97 === 0) expect(plain).toMatchObject({ error: 'invalid ciphertext length' });
      else expect(plain.plaintext).toBe(b64(`item ${i}`));
    }
    const allBad = await encrypt('orders', {
      batch_input: [{ plaintext: '!' }, { plaintext: '!' }],
      partial_failure_response_code: 207,
    });
    expect(allBad.status).toBe(400);
    const allGood = await encrypt('orders', { batch_input: [{ plaintext: b64('a') }] });
    expect(allGood.status).toBe(200);
  });

  it('partial_failure_response_code as a number or a digit string (Vault decodes it weakly); refused when not a number', async () => {
    const mixed = [{ plaintext: b64('good') }, { plaintext: 'bad!' }];
    for (const code of [207, '207']) {
      const response = await encrypt('orders', {
        batch_input: mixed,
        partial_failure_response_code: code,
      });
      expect(response.status).toBe(207);
      expect(response.body.warnings).toBeNull();
    }
    expect(
      (
        await encrypt('orders', {
          batch_input: [{ plaintext: b64('a') }],
          partial_failure_response_code: '207',
        })
      ).status,
    ).toBe(200);
    const outOfRange = await encrypt('orders', {
      batch_input: mixed,
      partial_failure_response_code: '700',
    });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.warnings).toEqual([
      'invalid HTTP response code override from partial_failure_response_code, reverting to 400',
    ]);
    for (const code of ['abc', '2O7', -1, 20.5, true]) {
      expect(
        await decrypt('orders', {
          batch_input: [{ ciphertext: 'vault:v1:AAAA' }],
          partial_failure_response_code: code,
        }),
      ).toMatchObject({
        status: 400,
        body: { errors: ['partial_failure_response_code must be a non-negative integer'] },
      });
    }
  });

  it('derived keys use the context; convergent keys give equal ciphertexts for equal plaintext and context', async () => {
    await s.request('POST', 'transit/keys/search', {
      body: { derived: true, convergent_encryption: true },
    });
    const one = await encrypt('search', {
      plaintext: b64('alice@example.com'),
      context: b64('users.email'),
    });
    const two = await encrypt('search', {
      plaintext: b64('alice@example.com'),
      context: b64('users.email'),
    });
    expect(one.body.data.ciphertext).toBe(two.body.data.ciphertext);
    const other = await encrypt('search', {
      plaintext: b64('alice@example.com'),
      context: b64('admins.email'),
    });
    expect(other.body.data.ciphertext).not.toBe(one.body.data.ciphertext);
    expect((await encrypt('search', { plaintext: b64('x') })).body.errors[0]).toMatch(
      /missing 'context'/,
    );
    expect(
      (
        await decrypt('search', {
          ciphertext: one.body.data.ciphertext,
          context: b64('users.email'),
        })
      ).body.data.plaintext,
    ).toBe(b64('alice@example.com'));
  });

  it('creates a missing key on encrypt (upsert), inferring derivation from a context', async () => {
    const upsert = await encrypt('fresh', {
      plaintext: b64('x'),
      context: b64('c'),
      type: 'chacha20-poly1305',
    });
    expect(upsert.status).toBe(200);
    expect((await s.request('GET', 'transit/keys/fresh')).body.data).toMatchObject({
      type: 'chacha20-poly1305',
      derived: true,
    });
  });

  it('data keys, HMACs, signatures and random bytes', async () => {
    const plain = await s.request('POST', 'transit/datakey/plaintext/orders', {
      body: { bits: 512 },
    });
    expect(Buffer.from(plain.body.data.plaintext, 'base64')).toHaveLength(64);
    expect(
      (await decrypt('orders', { ciphertext: plain.body.data.ciphertext })).body.data.plaintext,
    ).toBe(plain.body.data.plaintext);
    const wrapped = await s.request('POST', 'transit/datakey/wrapped/orders', { body: {} });
    expect(wrapped.body.data).not.toHaveProperty('plaintext');
    expect(
      (await s.request('POST', 'transit/datakey/plaintext/orders', { body: { bits: 100 } })).status,
    ).toBe(400);

    const mac = await s.request('POST', 'transit/hmac/orders/sha2-512', {
      body: { input: b64('m') },
    });
    expect(mac.body.data.hmac).toMatch(/^vault:v1:/);
    const macOk = await s.request('POST', 'transit/verify/orders/sha2-512', {
      body: { input: b64('m'), hmac: mac.body.data.hmac },
    });
    expect(macOk.body.data.valid).toBe(true);
    const macBad = await s.request('POST', 'transit/verify/orders/sha2-512', {
      body: { input: b64('n'), hmac: mac.body.data.hmac },
    });
    expect(macBad.body.data.valid).toBe(false);

    const sig = await s.request('POST', 'transit/sign/signer', { body: { input: b64('payload') } });
    expect(
      (
        await s.request('POST', 'transit/verify/signer', {
          body: { input: b64('payload'), signature: sig.body.data.signature },
        })
      ).body.data.valid,
    ).toBe(true);
    expect(
      (
        await s.request('POST', 'transit/verify/signer', {
          body: { input: b64('other'), signature: sig.body.data.signature },
        })
      ).body.data.valid,
    ).toBe(false);
    expect(
      (await s.request('POST', 'transit/sign/orders', { body: { input: b64('x') } })).body
        .errors[0],
    ).toMatch(/does not support signing/);

    const random = await s.request('POST', 'transit/random/24', { body: { format: 'hex' } });
    expect(random.body.data.random_bytes).toMatch(/^[0-9a-f]{48}$/);
  });

  it("config follows Vault's rules; deletion only when allowed", async () => {
    await s.request('POST', 'transit/keys/cfg', { body: {} });
    expect(
      (await s.request('POST', 'transit/keys/cfg/config', { body: { auto_rotate_period: '30m' } }))
        .body.errors[0],
    ).toMatch(/at least 1h/);
    expect(
      (await s.request('POST', 'transit/keys/cfg/config', { body: { min_decryption_version: 5 } }))
        .status,
    ).toBe(400);
    expect(
      (
        await s.request('POST', 'transit/keys/cfg/config', {
          body: { exportable: true, auto_rotate_period: '24h' },
        })
      ).body.data,
    ).toMatchObject({
      exportable: true,
      auto_rotate_period: 86400,
    });
    expect(
      (await s.request('POST', 'transit/keys/cfg/config', { body: { exportable: false } })).body
        .errors[0],
    ).toMatch(/cannot be disabled/);
    expect(
      (await s.request('GET', 'transit/export/encryption-key/cfg')).body.data.keys['1'],
    ).toEqual(expect.any(String));
    expect((await s.request('GET', 'transit/export/encryption-key/orders')).body.errors).toEqual([
      'private key material is not exportable',
    ]);
    expect((await s.request('DELETE', 'transit/keys/cfg')).body.errors).toEqual([
      'deletion is not allowed for this key',
    ]);
    await s.request('POST', 'transit/keys/cfg/config', { body: { deletion_allowed: true } });
    expect((await s.request('DELETE', 'transit/keys/cfg')).status).toBe(204);
    expect((await s.request('GET', 'transit/keys/cfg')).status).toBe(404);
  });

  it('lifecycle: revocation stops encryption at once and decryption unless allowed; illegal transitions are refused', async () => {
    await s.request('POST', 'transit/keys/life', { body: {} });
    const ct = (await encrypt('life', { plaintext: b64('x') })).body.data.ciphertext;
    expect(
      (await s.request('POST', 'transit/keys/life/state', { body: { state: 'revoked' } })).body.data
        .state,
    ).toBe('revoked');
    expect((await encrypt('life', { plaintext: b64('y') })).body.errors).toEqual([
      'key life is revoked: it cannot encrypt',
    ]);
    expect((await decrypt('life', { ciphertext: ct })).body.errors).toEqual([
      'key life is revoked: it cannot decrypt',
    ]);
    // Revocation is final: decryption cannot be switched back on afterwards…
    expect(
      await s.request('POST', 'transit/keys/life/config', {
        body: { decrypt_after_revocation: true },
      }),
    ).toMatchObject({
      status: 400,
      body: {
        errors: [
          "key life was revoked: decrypt_after_revocation cannot change (a revoked key's settings are fixed; only deletion_allowed may change)",
        ],
      },
    });
    expect((await decrypt('life', { ciphertext: ct })).status).toBe(400);
    // …only chosen before the revocation.
    await s.request('POST', 'transit/keys/readable', {
      body: { decrypt_after_revocation: true },
    });
    const kept = (await encrypt('readable', { plaintext: b64('x') })).body.data.ciphertext;
    await s.request('POST', 'transit/keys/readable/state', { body: { state: 'revoked' } });
    expect((await decrypt('readable', { ciphertext: kept })).body.data.plaintext).toBe(b64('x'));
    const illegal = await s.request('POST', 'transit/keys/life/state', {
      body: { state: 'active' },
    });
    expect(illegal.status).toBe(400);
    expect(illegal.body.errors[0]).toMatch(/cannot go from revoked to active/);
    await s.request('POST', 'transit/keys/exp', {
      body: { expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    expect((await s.request('GET', 'transit/keys/exp')).body.data.state).toBe('expired');
    expect((await encrypt('exp', { plaintext: b64('x') })).body.errors).toEqual([
      'key exp is expired: it cannot encrypt',
    ]);
  });

  it('rotates after a configured number of encryptions, counting across requests', async () => {
    await s.request('POST', 'transit/keys/counted', { body: { rotate_after_encryptions: 12 } });
    const versions: number[] = [];
    for (let i = 0; i < 30; i++)
      versions.push((await encrypt('counted', { plaintext: b64('x') })).body.data.key_version);
    // Counters are reserved in blocks of 5 here, the last one cut to the limit: each version
    // is used exactly 12 times, never more.
    expect(versions).toEqual([
      ...Array<number>(12).fill(1),
      ...Array<number>(12).fill(2),
      ...Array<number>(6).fill(3),
    ]);
    const info = (await s.request('GET', 'transit/keys/counted')).body.data;
    expect(info.encryptions).toMatchObject({ '1': 12, '2': 12 });
  });

  it('keeps a usage log per key: operation, actor, success, request id — never data', async () => {
    await s.request('POST', 'transit/keys/logged', { body: {} });
    const ct = (await encrypt('logged', { plaintext: b64('canary-usage-9f8e') })).body.data
      .ciphertext;
    await decrypt('logged', { ciphertext: ct });
    await decrypt('logged', { ciphertext: `${ct.slice(0, -6)}AAAAAA` });
    const usage = (await s.request('GET', 'transit/keys/logged/usage')).body.data.usage as Record<
      string,
      unknown
    >[];
    expect(usage.map((u) => [u.operation, u.success])).toEqual([
      ['encrypt', true],
      ['decrypt', true],
      ['decrypt', false],
    ]);
    expect(usage[0]).toMatchObject({
      display_name: 'root',
      version: 1,
      request_id: expect.any(String),
    });
    expect(usage[0]).not.toHaveProperty('accessor');
    expect(JSON.stringify(usage)).not.toContain(b64('canary-usage-9f8e'));
  });

  it('moves keys between the local KMS and the server without re-encrypting', async () => {
    const kms = new LocalKms();
    kms.createKey('migrated', { exportable: true, allowPlaintextBackup: true });
    kms.rotate('migrated');
    const local = kms.encrypt('migrated', 'written before the server existed', {
      associatedData: 'ad',
    });
    expect(
      (await s.request('POST', 'transit/restore', { body: { backup: kms.backup('migrated') } }))
        .status,
    ).toBe(204);
    const onServer = await decrypt('migrated', {
      ciphertext: local.ciphertext,
      associated_data: b64('ad'),
    });
    expect(Buffer.from(onServer.body.data.plaintext, 'base64').toString()).toBe(
      'written before the server existed',
    );
    const fromServer = (await encrypt('migrated', { plaintext: b64('and back') })).body.data
      .ciphertext;
    const back = new LocalKms();
    back.restore((await s.request('GET', 'transit/backup/migrated')).body.data.backup);
    expect(back.decrypt('migrated', fromServer).toString()).toBe('and back');
    expect((await s.request('GET', 'transit/backup/orders')).status).toBe(400);
  });

  it('authorisation: encrypt-only tokens cannot decrypt and the reverse; upsert needs create', async () => {
    const policy = s.policy;
    await policy('enc-only', {
      'transit/encrypt/orders': ['update'],
      'transit/encrypt/new-*': ['update'],
    });
    await policy('dec-only', { 'transit/decrypt/orders': ['update'] });
    await policy('enc-create', { 'transit/encrypt/new-*': ['create', 'update'] });
    const token = async (p: string) =>
      (await s.request('POST', 'auth/token/create', { body: { policies: [p] } })).body.auth
        .client_token as string;
    const enc = await token('enc-only');
    const dec = await token('dec-only');
    const creator = await token('enc-create');
    const ct = (
      await send(s.url, 'POST', 'transit/encrypt/orders', {
        token: enc,
        body: { plaintext: b64('x') },
      })
    ).body.data.ciphertext;
    expect(
      (
        await send(s.url, 'POST', 'transit/decrypt/orders', {
          token: enc,
          body: { ciphertext: ct },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await send(s.url, 'POST', 'transit/decrypt/orders', {
          token: dec,
          body: { ciphertext: ct },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send(s.url, 'POST', 'transit/encrypt/orders', {
          token: dec,
          body: { plaintext: b64('x') },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await send(s.url, 'POST', 'transit/encrypt/new-key', {
          token: enc,
          body: { plaintext: b64('x') },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await send(s.url, 'POST', 'transit/encrypt/new-key', {
          token: creator,
          body: { plaintext: b64('x') },
        })
      ).status,
    ).toBe(200);
  });
});
