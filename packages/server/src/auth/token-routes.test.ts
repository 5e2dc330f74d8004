import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { MAX_TOKEN_TTL_SECONDS } from './token-store.js';

const HOUR = 3600;
const CENTURY = '876000h';

/** A server clock (Unix ms) that stands still until the test moves it. */
function serverClock() {
  let at = 1_800_000_000_000;
  const clock = () => at;
  clock.advance = (seconds: number) => {
    at += seconds * 1000;
  };
  return clock;
}

describe.each(await storageKinds())('token lifetimes over HTTP on %s', (kind) => {
  let s: TestServer;
  const clock = serverClock();
  beforeAll(async () => {
    s = await startTestServer(kind, { clock, tokenSweepIntervalMs: 20 });
    await s.policy('minter', {
      'secret/data/*': ['read'],
      'auth/token/create': ['update'],
      'auth/token/renew-self': ['update'],
    });
    await s.request('POST', 'secret/data/shared', { body: { data: { v: 1 } } });
  });
  afterAll(async () => {
    await s.close();
  });

  const create = async (body: Record<string, unknown>, token = 'root') => {
    const response = await s.request('POST', 'auth/token/create', { token, body });
    expect(response.status).toBe(200);
    return response.body.auth as { client_token: string; accessor: string; lease_duration: number };
  };
  const renew = async (path: string, body: Record<string, unknown>, token = 'root') => {
    const response = await s.request('POST', `auth/token/${path}`, { token, body });
    expect(response.status).toBe(200);
    return response.body.auth as { client_token: string; lease_duration: number };
  };
  const ttlOf = async (token: string) =>
    (await s.request('POST', 'auth/token/lookup', { body: { token } })).body.data.ttl as number;
  const storedTokenPaths = async (...accessors: string[]) => {
    const hashes = await Promise.all(
      accessors.map(
        async (a) =>
          (await s.server.context.barrier.read<{ hash: string }>(`sys/token/accessor/${a}`))?.data
            .hash,
      ),
    );
    const paths = await s.server.context.barrier.listPaths('sys/token/');
    return paths.filter(
      (p) => accessors.some((a) => p.endsWith(a)) || hashes.some((h) => h && p.includes(h)),
    );
  };

  it('caps ttl and explicit_max_ttl at 768 h', async () => {
    const auth = await create({ ttl: '2000h', explicit_max_ttl: CENTURY });
    expect(auth.lease_duration).toBe(MAX_TOKEN_TTL_SECONDS);
    const looked = await s.request('POST', 'auth/token/lookup', {
      body: { token: auth.client_token },
    });
    expect(looked.body.data).toMatchObject({
      ttl: MAX_TOKEN_TTL_SECONDS,
      explicit_max_ttl: MAX_TOKEN_TTL_SECONDS,
    });
    clock.advance(HOUR);
    const renewed = await renew('renew-self', { increment: CENTURY }, auth.client_token);
    expect(renewed.lease_duration).toBe(MAX_TOKEN_TTL_SECONDS - HOUR);
  });

  it("holds a child's lease to its parent's remaining time at creation and at every renewal", async () => {
    const parent = await create({ policies: ['minter'], ttl: '10m', explicit_max_ttl: '2h' });
    const child = await create({ ttl: '1h' }, parent.client_token);
    expect(child.lease_duration).toBe(600);
    clock.advance(120);
    // renew-self, renew (by token) and renew-accessor: each stops at the parent's expiry.
    expect(
      (await renew('renew-self', { increment: '1h' }, child.client_token)).lease_duration,
    ).toBe(480);
    expect(
      (await renew('renew', { token: child.client_token, increment: '1h' })).lease_duration,
    ).toBe(480);
    const byAccessor = await renew('renew-accessor', { accessor: child.accessor, increment: '1h' });
    expect(byAccessor).toMatchObject({ client_token: '', lease_duration: 480 });
    expect(await ttlOf(child.client_token)).toBe(480);
    // Once the parent renews, the child may follow it, but not beyond.
    expect(
      (await renew('renew-self', { increment: '1h' }, parent.client_token)).lease_duration,
    ).toBe(HOUR);
    expect(
      (await renew('renew-accessor', { accessor: child.accessor, increment: '5h' })).lease_duration,
    ).toBe(HOUR);
    expect(
      (await renew('renew', { token: child.client_token, increment: '3h' })).lease_duration,
    ).toBe(HOUR);
    expect(
      (await renew('renew-self', { increment: CENTURY }, child.client_token)).lease_duration,
    ).toBe(HOUR);
  });

  it('use-limited tokens cannot create child tokens', async () => {
    for (const num_uses of [1, 2]) {
      const limited = await create({ policies: ['minter'], num_uses });
      const child = await s.request('POST', 'auth/token/create', {
        token: limited.client_token,
        body: { policies: ['minter'] },
      });
      expect(child).toMatchObject({
        status: 400,
        body: { errors: ['use-limited tokens cannot create child tokens'] },
      });
    }
  });

  it('a 30 s non-renewable parent cannot mint a child that outlives it', async () => {
    const parent = await create({ policies: ['minter'], ttl: '30s', renewable: false });
    const child = await create({ ttl: '1h', explicit_max_ttl: CENTURY }, parent.client_token);
    expect(child.lease_duration).toBe(30);
    const renewal = await s.request('POST', 'auth/token/renew-self', {
      token: child.client_token,
      body: { increment: CENTURY },
    });
    expect(renewal).toMatchObject({ status: 400, body: { errors: ['token is not renewable'] } });
    expect(
      (await s.request('GET', 'secret/data/shared', { token: child.client_token })).status,
    ).toBe(200);
    clock.advance(31);
    for (const token of [child.client_token, parent.client_token]) {
      expect((await s.request('GET', 'secret/data/shared', { token })).status).toBe(403);
    }
    // The sweeper removes both entries; nobody has to present them again.
    await vi.waitFor(async () =>
      expect(await storedTokenPaths(parent.accessor, child.accessor)).toEqual([]),
    );
  });

  it('the sweeper removes expired trees nobody presents, and keeps sweeping after a reseal', async () => {
    const sweptAfter = async (setup: () => Promise<string[]>) => {
      const accessors = await setup();
      expect(await storedTokenPaths(...accessors)).not.toEqual([]);
      clock.advance(61);
      await vi.waitFor(async () => expect(await storedTokenPaths(...accessors)).toEqual([]));
    };
    const tree = async () => {
      const parent = await create({ policies: ['minter'], ttl: '60s' });
      const child = await create({}, parent.client_token);
      return [parent.accessor, child.accessor];
    };
    await sweptAfter(tree);
    expect((await s.request('POST', 'sys/seal')).status).toBe(204);
    await send(s.url, 'POST', 'sys/unseal', { body: { key: s.server.unsealKey } });
    await sweptAfter(tree);
  });

  it('revoke and revoke-accessor remove a dead token at once; lookups refuse it', async () => {
    const parent = await create({ policies: ['minter'] });
    const byToken = await create({}, parent.client_token);
    const byAccessor = await create({}, parent.client_token);
    // A revocation that missed the children (as the old code could): the parent entry is gone.
    const { barrier } = s.server.context;
    const link = await barrier.read<{ hash: string }>(`sys/token/accessor/${parent.accessor}`);
    await barrier.remove(`sys/token/id/${link?.data.hash}`);
    const lookup = await s.request('POST', 'auth/token/lookup-accessor', {
      body: { accessor: byAccessor.accessor },
    });
    expect(lookup).toMatchObject({ status: 400, body: { errors: ['invalid accessor'] } });
    expect(
      (await s.request('GET', 'auth/token/lookup-self', { token: byToken.client_token })).status,
    ).toBe(403);
    expect(await storedTokenPaths(byToken.accessor, byAccessor.accessor)).not.toEqual([]);
    await s.request('POST', 'auth/token/revoke', { body: { token: byToken.client_token } });
    await s.request('POST', 'auth/token/revoke-accessor', {
      body: { accessor: byAccessor.accessor },
    });
    expect(await storedTokenPaths(byToken.accessor, byAccessor.accessor)).toEqual([]);
  });
});
