import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { authBlock } from './token-response.js';
import type { TokenEntry } from './token-store.js';

const HOUR = 3600;

/** A server clock (Unix ms) that stands still until the test moves it. */
function serverClock() {
  let at = 1_800_000_000_000;
  const clock = () => at;
  clock.advance = (seconds: number) => {
    at += seconds * 1000;
  };
  return clock;
}

describe.each(await storageKinds())('batch, periodic and orphan tokens over HTTP on %s', (kind) => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  const clock = serverClock();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-token-kinds-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer(kind, {
      clock,
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    await s.policy('reader', { 'secret/data/*': ['read'] });
    await s.policy('minter', {
      'auth/token/create': ['update'],
      'auth/token/create-orphan': ['update'],
      'auth/token/renew-self': ['update'],
      'auth/token/accessors/': ['list'],
    });
    await s.policy('sudo-minter', {
      'auth/token/create': ['update', 'sudo'],
      'auth/token/create-orphan': ['update', 'sudo'],
      'auth/token/accessors/': ['list', 'sudo'],
    });
    await s.request('POST', 'secret/data/shared', { body: { data: { v: 1 } } });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const create = async (
    body: Record<string, unknown>,
    token = 'root',
    path = 'auth/token/create',
  ) => s.request('POST', path, { token, body });
  const auth = async (
    body: Record<string, unknown>,
    token = 'root',
    path = 'auth/token/create',
  ) => {
    const response = await create(body, token, path);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.auth;
  };
  const lookup = async (token: string) =>
    (await s.request('GET', 'auth/token/lookup-self', { token })).body.data;

  it('issues batch tokens that work, report themselves, and never reach the audit log', async () => {
    const batch = await auth({ type: 'batch', policies: ['reader'], ttl: '1h' });
    expect(batch).toMatchObject({
      token_type: 'batch',
      renewable: false,
      accessor: '',
      lease_duration: HOUR,
      orphan: false,
    });
    expect(batch.client_token.startsWith('hvb.')).toBe(true);
    const read = await s.request('GET', 'secret/data/shared', { token: batch.client_token });
    expect(read.status).toBe(200);
    expect(await lookup(batch.client_token)).toMatchObject({
      type: 'batch',
      policies: ['default', 'reader'],
      explicit_max_ttl: 0,
      ttl: HOUR,
    });
    const tail = batch.client_token.slice(-24);
    const log = await readFile(auditFile, 'utf8');
    expect(log).toContain('auth/token/lookup-self');
    expect(log).not.toContain(batch.client_token);
    expect(log).not.toContain(tail);
  });

  it('refuses renewal, revocation and child creation of batch tokens, and altered ones', async () => {
    const { client_token: batch } = await auth({ type: 'batch', policies: ['minter'] });
    expect((await s.request('POST', 'auth/token/renew-self', { token: batch })).status).toBe(400);
    expect((await s.request('POST', 'auth/token/revoke-self', { token: batch })).status).toBe(400);
    expect((await s.request('POST', 'auth/token/revoke', { body: { token: batch } })).status).toBe(
      400,
    );
    const child = await create({ policies: ['minter'] }, batch);
    expect(child.status).toBe(400);
    expect(child.body.errors).toEqual(['batch tokens cannot create tokens']);
    const altered = `${batch.slice(0, 10)}${batch[10] === 'A' ? 'B' : 'A'}${batch.slice(11)}`;
    expect((await s.request('GET', 'auth/token/lookup-self', { token: altered })).status).toBe(403);
    for (const body of [{ num_uses: 3 }, { period: '1h' }, { type: 'other' }])
      expect((await create({ type: 'batch', ...body })).status).toBe(400);
  });

  it('refuses a batch token too long to be sent back, and stores nothing', async () => {
    const meta = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'.repeat(40)]),
    );
    const refused = await create({ type: 'batch', policies: ['reader'], meta });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/longer than 8192 characters/);
  });

  it('a batch token dies with its parent and never outlives it', async () => {
    const parent = await auth({ policies: ['reader', 'minter'], ttl: '10m' });
    const batch = await auth({ type: 'batch', ttl: '5h' }, parent.client_token);
    expect(batch.lease_duration).toBe(600);
    await s.request('POST', 'auth/token/revoke', { body: { token: parent.client_token } });
    const read = await s.request('GET', 'secret/data/shared', { token: batch.client_token });
    expect(read.status).toBe(403);
    const expiring = await auth({ type: 'batch', policies: ['reader'], ttl: '2m' });
    clock.advance(121);
    expect(
      (await s.request('GET', 'secret/data/shared', { token: expiring.client_token })).status,
    ).toBe(403);
  });

  it('periodic tokens renew by their period, past 768 h, within an explicit maximum', async () => {
    const periodic = await auth({ policies: ['minter'], period: '700h' });
    expect(periodic.lease_duration).toBe(700 * HOUR);
    expect(await lookup(periodic.client_token)).toMatchObject({
      period: 700 * HOUR,
      explicit_max_ttl: 0,
    });
    for (let i = 0; i < 2; i++) {
      clock.advance(600 * HOUR);
      const renewed = await s.request('POST', 'auth/token/renew-self', {
        token: periodic.client_token,
        body: { increment: '1h' },
      });
      expect(renewed.body.auth.lease_duration).toBe(700 * HOUR);
    }
    const bounded = await auth({ policies: ['minter'], period: '1h', explicit_max_ttl: '90m' });
    clock.advance(HOUR - 60);
    const renewed = await s.request('POST', 'auth/token/renew-self', {
      token: bounded.client_token,
    });
    expect(renewed.body.auth.lease_duration).toBe(31 * 60);
    // A periodic child never outlives its parent.
    const parent = await auth({ policies: ['sudo-minter'], ttl: '30m' });
    const child = await auth({ period: '2h' }, parent.client_token);
    expect(child.lease_duration).toBe(30 * 60);
  });

  it('a period needs sudo or root', async () => {
    const minter = await auth({ policies: ['minter'] });
    const refused = await create({ period: '1h' }, minter.client_token);
    expect(refused.status).toBe(403);
  });

  it('create-orphan and no_parent need sudo; an orphan outlives its creator', async () => {
    const minter = await auth({ policies: ['minter'] });
    for (const [path, body] of [
      ['auth/token/create-orphan', {}],
      ['auth/token/create', { no_parent: true }],
    ] as const) {
      const refused = await create(body, minter.client_token, path);
      expect(refused.status).toBe(403);
    }
    const sudo = await auth({ policies: ['sudo-minter'] });
    const orphan = await auth({ ttl: '1h' }, sudo.client_token, 'auth/token/create-orphan');
    expect(orphan.orphan).toBe(true);
    expect(await lookup(orphan.client_token)).toMatchObject({ path: 'auth/token/create-orphan' });
    await s.request('POST', 'auth/token/revoke', { body: { token: sudo.client_token } });
    expect(
      (await s.request('GET', 'auth/token/lookup-self', { token: orphan.client_token })).status,
    ).toBe(200);
  });

  it('sudo may mint policies it lacks; without sudo the subset rule holds; names keep one case', async () => {
    const minter = await auth({ policies: ['minter'] });
    const refused = await create({ policies: ['reader'] }, minter.client_token);
    expect(refused.status).toBe(400);
    const sudo = await auth({ policies: ['sudo-minter'] });
    const minted = await auth({ policies: ['reader'] }, sudo.client_token);
    expect(minted.policies).toEqual(['default', 'reader']);
    // root stays root's.
    expect((await create({ policies: ['root'] }, sudo.client_token)).status).toBe(403);
    for (const token of ['root', sudo.client_token, minter.client_token]) {
      for (const name of ['Reader', 'ROOT', 'Default', 'mInter', 'reader/x']) {
        const response = await create({ policies: [name] }, token);
        expect(response.status, `${name}`).toBe(400);
      }
    }
  });

  it('LIST auth/token/accessors needs sudo', async () => {
    const minter = await auth({ policies: ['minter'] });
    expect(
      (await s.request('LIST', 'auth/token/accessors', { token: minter.client_token })).status,
    ).toBe(403);
    const sudo = await auth({ policies: ['sudo-minter'] });
    const listed = await s.request('LIST', 'auth/token/accessors', { token: sudo.client_token });
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toContain(minter.accessor);
    expect(listed.body.data.keys).toContain(sudo.accessor);
    expect((await s.request('GET', 'auth/token/accessors?list=true')).status).toBe(200);
    expect((await s.request('GET', 'auth/token/accessors')).status).toBe(404);
  });

  it('reports explicit_max_ttl 0 when none was set, and the one asked for', async () => {
    const plain = await auth({ policies: ['reader'], ttl: '1h' });
    expect(await lookup(plain.client_token)).toMatchObject({ explicit_max_ttl: 0, ttl: HOUR });
    const capped = await auth({ policies: ['reader'], ttl: '1h', explicit_max_ttl: '2h' });
    expect(await lookup(capped.client_token)).toMatchObject({ explicit_max_ttl: 2 * HOUR });
  });
});

describe('lease_duration', () => {
  it('is the TTL granted, though the response is written a moment later', () => {
    const at = 1_800_000_000.25;
    const entry = {
      accessor: 'a',
      policies: ['default'],
      displayName: 'token',
      meta: {},
      numUses: 0,
      parentHash: '',
      path: 'auth/token/create',
      hash: 'h',
      creationTime: Math.floor(at),
      creationTtl: HOUR,
      expireTime: at + HOUR,
      maxExpireTime: at + HOUR,
      renewable: true,
    } satisfies TokenEntry;
    expect(authBlock('t', entry, at + 0.4).lease_duration).toBe(HOUR);
  });
});
