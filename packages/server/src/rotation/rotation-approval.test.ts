import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('two-person approval of rotations on %s', (kind) => {
  let s: TestServer;
  let nowMs = Date.now();
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    s = await startTestServer(kind, { clock: () => nowMs });
    await s.policy('rotate-appr', {
      'secret/data/appr/*': ['read'],
      'sys/rotate-secret/secret/appr/*': ['update'],
      'sys/rotation-approve/*': ['update'],
      'sys/rotation-requests': ['read'],
      'sys/rotation-history/secret/appr/*': ['read'],
      'auth/token/create': ['update'],
    });
    // Approving is scoped to the secrets one may ask to rotate.
    await s.policy('approve-only', { 'sys/rotation-approve/*': ['update'] });
    const make = (display_name: string | undefined, policies = ['rotate-appr']) =>
      s.token({ policies, ...(display_name === undefined ? {} : { display_name }) });
    tokens.alice = await make('alice');
    tokens.alice2 = await make('alice'); // the same person, a second token
    tokens.bob = await make('bob');
    tokens.bob2 = await make('bob');
    tokens.carol = await make('carol');
    tokens.anon = await make(undefined);
    tokens.outsider = await make('dave', ['approve-only']);
    for (const key of ['appr/db', 'appr/race', 'appr/expiry', 'appr/twice', 'appr/listed'])
      expect(
        (await s.request('POST', `secret/data/${key}`, { body: { data: { value: 'v1' } } })).status,
      ).toBe(200);
    for (const key of ['appr/db', 'appr/race', 'appr/expiry', 'appr/twice', 'appr/listed'])
      expect(
        (
          await s.request('POST', `sys/rotation/secret/${key}`, {
            body: { rotator: 'random', schedule: '90d', approvals: 2, approval_ttl: '1h' },
          })
        ).status,
      ).toBe(204);
  });
  afterAll(async () => {
    await s.close();
  });

  const ask = (key: string, token: string, body: Record<string, unknown> = { force: true }) =>
    s.request('POST', `sys/rotate-secret/secret/${key}`, { token, body });
  const approve = (id: string, token: string) =>
    s.request('POST', `sys/rotation-approve/${id}`, { token });
  const version = async (key: string) =>
    (await s.request('GET', `secret/data/${key}`)).body.data.metadata.version as number;
  const refusedWith = (r: { status: number; body: { errors?: string[] } }, pattern: RegExp) => {
    expect(r.status).toBe(403);
    expect(r.body.errors?.[0]).toMatch(pattern);
  };

  it('keeps approvals in the policy and checks them', async () => {
    const read = await s.request('GET', 'sys/rotation/secret/appr/db');
    expect(read.body.data).toMatchObject({ approvals: 2, approval_ttl: '1h0m0s' });
    for (const [body, pattern] of [
      [{ approvals: 6 }, /approvals must be an integer from 0 to 5/],
      [{ approval_ttl: '1h' }, /approval_ttl applies only with approvals/],
      [{ approvals: 1, approval_ttl: '10s' }, /approval_ttl must be between/],
    ] as const) {
      const r = await s.request('POST', 'sys/rotation/secret/appr/bad', {
        body: { rotator: 'random', schedule: '90d', ...body },
      });
      expect(r.status).toBe(400);
      expect(r.body.errors[0]).toMatch(pattern);
    }
  });

  it('waits for two other identities; the requester, their tokens and children count for nobody', async () => {
    const before = await version('appr/db');
    const asked = await ask('appr/db', tokens.alice as string, {
      force: true,
      reason: 'leak drill',
    });
    expect(asked.status).toBe(200);
    expect(asked.body.data).toMatchObject({ result: 'approval_required', approvals_required: 2 });
    const id = asked.body.data.request_id as string;
    expect(await version('appr/db')).toBe(before);

    refusedWith(await approve(id, tokens.alice as string), /requester cannot approve/);
    refusedWith(await approve(id, tokens.alice2 as string), /requester cannot approve/);
    // A child of alice's token, even one naming itself bob, acts for alice.
    const child = await s.request('POST', 'auth/token/create', {
      token: tokens.alice as string,
      body: { display_name: 'bob', policies: ['rotate-appr'] },
    });
    expect(child.status).toBe(200);
    refusedWith(await approve(id, child.body.auth.client_token), /requester cannot approve/);
    refusedWith(await approve(id, tokens.anon as string), /no identity/);
    const outsider = await approve(id, tokens.outsider as string);
    expect(outsider.status).toBe(403);
    expect(outsider.body.errors[0]).toBe('permission denied');
    const noToken = await s.request('POST', `sys/rotation-approve/${id}`, { token: null });
    expect([401, 403]).toContain(noToken.status);

    const first = await approve(id, tokens.bob as string);
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ state: 'pending', approved_by: ['token-bob'] });
    refusedWith(await approve(id, tokens.bob as string), /approved the request already/);
    refusedWith(await approve(id, tokens.bob2 as string), /approved the request already/);
    expect(await version('appr/db')).toBe(before);

    const second = await approve(id, tokens.carol as string);
    expect(second.status).toBe(200);
    expect(second.body.data).toMatchObject({
      state: 'approved',
      result: 'succeeded',
      approved_by: ['token-bob', 'token-carol'],
    });
    expect(await version('appr/db')).toBe(before + 1);
    refusedWith(await approve(id, tokens.carol as string), /approved already and has run/);

    const history = await s.request('GET', 'sys/rotation-history/secret/appr/db', {
      token: tokens.carol as string,
    });
    const run = history.body.data.runs.at(-1);
    expect(run).toMatchObject({
      state: 'succeeded',
      reason: 'leak drill',
      approved_by: ['token-bob', 'token-carol'],
    });
    const aliceAccessor = (
      await s.request('POST', 'auth/token/lookup', { body: { token: tokens.alice } })
    ).body.data.accessor;
    expect(run.by).toBe(aliceAccessor);
  });

  it('needs no approval for a dry run, and lists requests with their state', async () => {
    const dry = await ask('appr/listed', tokens.alice as string, { dry_run: true });
    expect(dry.body.data.result).toBe('planned');
    // A request of its own (a test may run alone: mutation runs run only the tests they need).
    const asked = await ask('appr/listed', tokens.alice as string);
    const id = asked.body.data.request_id as string;
    const list = await s.request('GET', 'sys/rotation-requests', { token: tokens.bob as string });
    expect(list.status).toBe(200);
    expect(
      list.body.data.requests
        .filter((r: { id: string }) => r.id === id)
        .map((r: { secret: string; state: string }) => [r.secret, r.state]),
    ).toEqual([['secret/appr/listed', 'pending']]);
    expect(JSON.stringify(list.body)).not.toContain(tokens.alice);
  });

  it('refuses an approval after the request expired', async () => {
    const asked = await ask('appr/expiry', tokens.alice as string);
    const id = asked.body.data.request_id as string;
    nowMs += 2 * 3600_000;
    try {
      refusedWith(await approve(id, tokens.bob as string), /expired/);
      const list = await s.request('GET', 'sys/rotation-requests');
      expect(list.body.data.requests.find((r: { id: string }) => r.id === id)?.state).toBe(
        'expired',
      );
    } finally {
      nowMs -= 2 * 3600_000;
    }
  });

  it('rotates once when the last two approvals race, and counts one identity once', async () => {
    const before = await version('appr/race');
    const asked = await ask('appr/race', tokens.alice as string);
    const id = asked.body.data.request_id as string;
    // bob's two tokens at once: one counts, the other is refused.
    const same = await Promise.all([
      approve(id, tokens.bob as string),
      approve(id, tokens.bob2 as string),
    ]);
    expect(same.map((r) => r.status).sort()).toEqual([200, 403]);
    expect(await version('appr/race')).toBe(before);
    const twice = await ask('appr/twice', tokens.alice as string);
    const other = twice.body.data.request_id as string;
    await approve(other, tokens.alice2 as string).then((r) => expect(r.status).toBe(403));
    expect((await approve(other, tokens.bob as string)).status).toBe(200);
    // carol completes `id` while carol and bob2 race on `other`: each completes once.
    const raced = await Promise.all([
      approve(id, tokens.carol as string),
      approve(other, tokens.carol as string),
      approve(other, tokens.carol as string),
    ]);
    expect(raced[0]?.body.data.result).toBe('succeeded');
    expect(
      raced
        .slice(1)
        .map((r) => r.status)
        .sort(),
    ).toEqual([200, 403]);
    expect(await version('appr/race')).toBe(before + 1);
    const runs = (await s.request('GET', 'sys/rotation-history/secret/appr/twice')).body.data.runs;
    expect(runs.filter((r: { state: string }) => r.state === 'succeeded')).toHaveLength(1);
  });

  it('names no request for ids in other spellings', async () => {
    const asked = await ask('appr/db', tokens.alice as string);
    const id = asked.body.data.request_id as string;
    for (const variant of [id.toUpperCase(), `${id}/`, `${id}%2F`, `..%2F${id}`, 'x']) {
      const r = await approve(variant, tokens.bob as string);
      expect(r.status).not.toBe(200);
    }
    expect((await approve(id, tokens.bob as string)).status).toBe(200);
  });
});
