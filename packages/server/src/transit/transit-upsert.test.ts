import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Every creation setting an encrypt may not carry, with a value that would matter. */
const CREATION_ONLY: Record<string, unknown> = {
  exportable: true,
  allow_plaintext_backup: true,
  decrypt_after_revocation: true,
  derived: true,
  purpose: 'backup',
  expires_at: '2099-01-01T00:00:00Z',
  auto_rotate_period: '2h',
  rotate_after_encryptions: 7,
};

describe.each(await storageKinds())('transit encrypt upsert on %s', (kind) => {
  let s: TestServer;
  /** May create and use keys through every data operation, but never reach keys/ or config. */
  let user: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('app', {
      'transit/encrypt/*': ['create', 'update'],
      'transit/decrypt/*': ['update'],
      'transit/rewrap/*': ['create', 'update'],
      'transit/datakey/*': ['create', 'update'],
      'transit/hmac/*': ['create', 'update'],
      'transit/sign/*': ['create', 'update'],
    });
    user = await s.token({ policies: ['app'] });
  });
  afterAll(async () => {
    await s.close();
  });

  const asUser = (path: string, body: Record<string, unknown>) =>
    send(s.url, 'POST', path, { token: user, body });
  const key = async (name: string) => s.request('GET', `transit/keys/${name}`);

  it.each(Object.entries(CREATION_ONLY))(
    'refuses %s on an encrypt (body or batch item) and creates nothing',
    async (field, value) => {
      const name = `planted-${field.replaceAll('_', '-')}`;
      const inBody = await asUser(`transit/encrypt/${name}`, {
        plaintext: b64('x'),
        [field]: value,
      });
      const inItem = await asUser(`transit/encrypt/${name}`, {
        batch_input: [{ plaintext: b64('x') }, { plaintext: b64('y'), [field]: value }],
      });
      for (const response of [inBody, inItem]) {
        expect(response.status).toBe(400);
        expect(response.body.errors).toEqual([
          `encrypt does not take ${field}: create the key with these settings at transit/keys/:name first (an encrypt creates a missing key from type and convergent_encryption only, deriving when a context is given)`,
        ]);
      }
      expect((await key(name)).status).toBe(404);
    },
  );

  it('refuses them on an existing key too, and names every one', async () => {
    await s.request('POST', 'transit/keys/existing', { body: {} });
    const response = await asUser('transit/encrypt/existing', {
      plaintext: b64('x'),
      exportable: true,
      allow_plaintext_backup: 'true',
    });
    expect(response.body.errors[0]).toMatch(
      /^encrypt does not take exportable, allow_plaintext_backup: /,
    );
    expect((await key('existing')).body.data).toMatchObject({
      exportable: false,
      allow_plaintext_backup: false,
    });
  });

  it('creates a missing key with default settings but its type, convergence and derivation', async () => {
    expect((await asUser('transit/encrypt/plain', { plaintext: b64('x') })).status).toBe(200);
    expect((await key('plain')).body.data).toMatchObject({
      type: 'aes256-gcm96',
      purpose: 'encryption',
      derived: false,
      exportable: false,
      allow_plaintext_backup: false,
      deletion_allowed: false,
      decrypt_after_revocation: false,
      auto_rotate_period: 0,
      expires_at: null,
      rotate_after_encryptions: 2 ** 30,
    });
    const convergent = await asUser('transit/encrypt/convergent', {
      batch_input: [{ plaintext: b64('x'), context: b64('c') }],
      type: 'chacha20-poly1305',
      convergent_encryption: true,
    });
    expect(convergent.status).toBe(200);
    expect((await key('convergent')).body.data).toMatchObject({
      type: 'chacha20-poly1305',
      derived: true,
      convergent_encryption: true,
      exportable: false,
    });
  });

  it('creates only encryption keys, and nothing from a request that cannot encrypt', async () => {
    for (const type of ['ed25519', 'ecdsa-p256', 'hmac', 'rot13']) {
      const response = await asUser(`transit/encrypt/typed-${type}`, {
        plaintext: b64('x'),
        type,
      });
      expect(response.body.errors).toEqual([
        'encrypt creates only encryption keys: type must be aes256-gcm96, chacha20-poly1305 or aes128-gcm96',
      ]);
      expect((await key(`typed-${type}`)).status).toBe(404);
    }
    for (const body of [
      { plaintext: 'not base64!' },
      { plaintext: b64('x'), convergent_encryption: true },
    ]) {
      expect((await asUser('transit/encrypt/unmade', body)).status).toBe(400);
      expect((await key('unmade')).status).toBe(404);
    }
  });

  it('no other operation creates a key, whatever it carries', async () => {
    const planted = { exportable: true, allow_plaintext_backup: true, type: 'ed25519' };
    const attempts = [
      ['transit/rewrap/other-rewrap', { ciphertext: 'vault:v1:AAAA', ...planted }],
      ['transit/datakey/plaintext/other-datakey', planted],
      ['transit/hmac/other-hmac', { input: b64('x'), ...planted }],
      ['transit/sign/other-sign', { input: b64('x'), ...planted }],
      ['transit/hmac/other-batch', { batch_input: [{ input: b64('x'), ...planted }] }],
    ] as const;
    for (const [path, body] of attempts) {
      const response = await asUser(path, body);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual(['encryption key not found']);
    }
    expect((await s.request('GET', 'transit/keys?list=true')).body.data.keys).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^other-/)]),
    );
  });

  it('a later create with other settings says so; the same (or none) succeeds', async () => {
    expect((await asUser('transit/encrypt/upserted', { plaintext: b64('x') })).status).toBe(200);
    const conflict = await s.request('POST', 'transit/keys/upserted', {
      body: { exportable: true, allow_plaintext_backup: false, decrypt_after_revocation: true },
    });
    expect(conflict).toMatchObject({
      status: 400,
      body: {
        errors: [
          'key upserted already exists with other settings: exportable is false on the key; decrypt_after_revocation is false on the key (creating a key never changes an existing one; change what may change in its config)',
        ],
      },
    });
    const typed = await s.request('POST', 'transit/keys/upserted', {
      body: { type: 'chacha20-poly1305', expires_at: '2099-01-01T00:00:00Z' },
    });
    expect(typed.body.errors[0]).toMatch(
      /exists with other settings: type is aes256-gcm96 on the key; expires_at is null on the key /,
    );
    expect((await key('upserted')).body.data).toMatchObject({
      type: 'aes256-gcm96',
      exportable: false,
      decrypt_after_revocation: false,
    });
    for (const body of [
      {},
      { type: 'aes256-gcm96', exportable: false, derived: false, purpose: 'encryption' },
    ])
      expect((await s.request('POST', 'transit/keys/upserted', { body })).status).toBe(200);
    // An existing key created with settings: asking for them again is fine.
    await s.request('POST', 'transit/keys/set', {
      body: { exportable: true, expires_at: '2099-01-01T00:00:00Z', auto_rotate_period: '2h' },
    });
    expect(
      (
        await s.request('POST', 'transit/keys/set', {
          body: {
            exportable: 'true',
            expires_at: '2099-01-01T00:00:00.000Z',
            auto_rotate_period: 7200,
          },
        })
      ).status,
    ).toBe(200);
  });
});
