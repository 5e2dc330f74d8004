/**
 * An access key is a credential a token makes with its own policies: it must not outlive that
 * token. Otherwise a short-lived token (an AppRole login's, a child about to be revoked in an
 * incident) mints a key that never expires and survives every revocation. A key made by a
 * token other than root dies with the token (revoked, expired, its parent revoked) and never
 * asks for a longer life than the token has; batch and use-limited tokens make none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendSigned, signRequest, type TestAccessKey } from '../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const HOUR = 3_600_000;

describe.each(await storageKinds())('access keys made by tokens on %s', (kind) => {
  let s: TestServer;
  let offsetMs = 0;
  const serverNow = () => Date.now() + offsetMs;
  beforeAll(async () => {
    s = await startTestServer(kind, { clock: serverNow });
    await s.policy('aws-rw', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
    await s.policy('mint', {
      'aws/access-key': ['update'],
      'auth/token/create': ['update'],
      'auth/token/revoke-self': ['update'],
    });
    await s.request('POST', 'secret/data/target', { body: { data: { value: 'v' } } });
  });
  afterAll(async () => {
    await s.close();
  });

  const get = { SecretId: 'target' };
  const statusOf = async (key: TestAccessKey) =>
    (await sendSigned(await signRequest(s, key, 'GetSecretValue', get, new Date(serverNow()))))
      .status;
  const tokenWith = (body: Record<string, unknown>) =>
    s.token({ policies: ['aws-rw', 'mint'], ...body });
  const mint = async (token: string, ttl?: string) =>
    s.request('POST', 'aws/access-key', {
      token,
      body: { policies: ['aws-rw'], ...(ttl === undefined ? {} : { ttl }) },
    });
  const keyOf = (r: Awaited<ReturnType<typeof mint>>): TestAccessKey => {
    expect(r.status).toBe(200);
    return {
      accessKeyId: r.body.data.access_key_id,
      secretAccessKey: r.body.data.secret_access_key,
    };
  };

  it('dies with the token that made it, however the token goes', async () => {
    const revokers: [string, (token: string, parent: string) => Promise<unknown>][] = [
      ['revoke-self', (token) => s.request('POST', 'auth/token/revoke-self', { token })],
      ['revoke', (token) => s.request('POST', 'auth/token/revoke', { body: { token } })],
      [
        'revoke of its parent',
        (_t, parent) => s.request('POST', 'auth/token/revoke', { body: { token: parent } }),
      ],
    ];
    for (const [how, revoke] of revokers) {
      const parent = await tokenWith({ ttl: '2h' });
      const child = await s.request('POST', 'auth/token/create', {
        token: parent,
        body: { policies: ['aws-rw', 'mint'] },
      });
      const token = child.body.auth.client_token as string;
      const keys = [keyOf(await mint(token)), keyOf(await mint(token, '8760h'))];
      for (const key of keys) expect(await statusOf(key), how).toBe(200);
      await revoke(token, parent);
      for (const key of keys) expect(await statusOf(key), how).toBe(403);
    }
  });

  it('never lives longer than the token that made it', async () => {
    const token = await tokenWith({ ttl: '1h' });
    const forever = await mint(token);
    const long = await mint(token, '720h');
    const short = await mint(token, '10m');
    const tokenExpiry = Date.parse(
      (await s.request('POST', 'auth/token/lookup', { body: { token } })).body.data.expire_time,
    );
    for (const r of [forever, long])
      expect(Date.parse(r.body.data.expire_time)).toBeLessThanOrEqual(tokenExpiry);
    expect(Date.parse(short.body.data.expire_time)).toBeLessThan(tokenExpiry);
    const keys = [forever, long, short].map(keyOf);
    offsetMs += 2 * HOUR;
    try {
      for (const key of keys) expect(await statusOf(key)).toBe(403);
    } finally {
      offsetMs -= 2 * HOUR;
    }
  });

  it('is not made by batch or use-limited tokens', async () => {
    for (const body of [{ type: 'batch' }, { num_uses: 5 }]) {
      const r = await mint(await tokenWith(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors[0]).toMatch(/cannot create access keys/);
    }
  });

  it("made by root, is the operator's: it outlives the token and keeps its ttl", async () => {
    const root = await s.request('POST', 'auth/token/create', {
      body: { policies: ['root'], ttl: '1h' },
    });
    const rootToken = root.body.auth.client_token as string;
    const key = keyOf(await mint(rootToken));
    await s.request('POST', 'auth/token/revoke', { body: { token: rootToken } });
    expect(await statusOf(key)).toBe(200);
  });
});
