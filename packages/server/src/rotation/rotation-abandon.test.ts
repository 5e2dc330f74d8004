import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { builtInRotators } from './built-in-rotators.js';
import type { Rotator } from './rotator.js';

const value = () => randomBytes(12).toString('hex');

/**
 * A rotator whose background work fails while `broken` (a database that is gone), and
 * succeeds otherwise; it counts its attempts per secret and its retirements.
 */
function breakableRotator() {
  const state = { broken: true, attempts: new Map<string, number>(), retired: new Set<string>() };
  const rotator: Rotator = {
    name: 'breakable',
    checkSettings: () => {},
    create: async () => ({ value: value() }),
    set: async () => {},
    test: async () => {},
    async background(context) {
      const key = context.secret.key;
      state.attempts.set(key, (state.attempts.get(key) ?? 0) + 1);
      if (state.broken) throw new Error('the rewrap database is gone');
    },
    async retire(context) {
      state.retired.add(context.secret.key);
    },
  };
  return { rotator, state };
}

describe.each(await storageKinds())('abandoning background work on %s', (kind) => {
  let s: TestServer;
  let nowMs = Date.parse('2031-06-01T00:00:00.000Z');
  const breakable = breakableRotator();
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(breakable.rotator);
    s = await startTestServer(kind, {
      rotators,
      clock: () => nowMs,
      rotationSchedulerIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await s.close();
  });

  const engine = () => s.server.context.rotation.engine;
  /** A secret whose last rotation's background work failed (and keeps failing). */
  const stuck = async (key: string) => {
    const old = value();
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: old } } });
    const policy = await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'breakable', schedule: '90d', grace_period: '0s' },
    });
    expect(policy.status).toBe(204);
    breakable.state.broken = true;
    const rotated = await s.request('POST', `sys/rotate-secret/secret/${key}`, {
      body: { force: true, reason: 'first' },
    });
    expect(rotated.status).toBe(200);
    await engine().backgroundIdle();
    return old;
  };
  const lastRun = async (key: string) =>
    (await s.request('GET', `sys/rotation-history/secret/${key}`)).body.data.runs.at(-1);
  const abandon = (key: string, body: Record<string, unknown>, token?: string) =>
    s.request('POST', `sys/rotation-abandon/secret/${key}`, {
      body,
      ...(token === undefined ? {} : { token }),
    });

  it('needs sudo: update on the path alone is refused, and nothing changes', async () => {
    const key = 'abandon/acl';
    await stuck(key);
    await s.policy('abandoner', { 'sys/rotation-abandon/*': ['create', 'update'] });
    const token = await s.token({ policies: ['abandoner'] });
    expect((await abandon(key, { reason: 'gone' }, token)).status).toBe(403);
    expect((await lastRun(key)).background.state).toBe('failed');
    await s.policy('abandoner-sudo', { 'sys/rotation-abandon/*': ['create', 'update', 'sudo'] });
    const sudo = await s.token({ policies: ['abandoner-sudo'] });
    expect((await abandon(key, { reason: 'the database was dropped' }, sudo)).status).toBe(200);
    const run = await lastRun(key);
    expect(run.background.state).toBe('abandoned');
    // Recorded as the caller's accessor, not root's.
    const accessor = (await s.request('GET', 'auth/token/lookup-self', { token: sudo })).body.data
      .accessor;
    expect(run.abandoned).toMatchObject({ by: accessor, reason: 'the database was dropped' });
  });

  it('requires a reason: missing, blank or too long is refused and nothing changes', async () => {
    const key = 'abandon/reason';
    await stuck(key);
    for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(513) }]) {
      const r = await abandon(key, body);
      expect(r.status).toBe(400);
    }
    expect((await lastRun(key)).background.state).toBe('failed');
  });

  it('ends the work for good, records who and why, lets the secret rotate again, and never retires the old value by itself', async () => {
    const key = 'abandon/flow';
    const old = await stuck(key);
    // Stuck: a new rotation is refused while the work is open.
    const refused = await s.request('POST', `sys/rotate-secret/secret/${key}`, {
      body: { force: true, reason: 'again' },
    });
    expect(refused.status).toBe(409);
    const r = await abandon(key, { reason: 'rotator database removed for good' });
    expect(r.status).toBe(200);
    expect(r.body.data.background).toBe('abandoned');
    const run = await lastRun(key);
    expect(run.abandoned.reason).toBe('rotator database removed for good');
    expect(run.steps.at(-1)).toMatchObject({ step: 'background', result: 'skipped' });
    expect(run.background).toMatchObject({
      state: 'abandoned',
      abandon_reason: 'rotator database removed for good',
    });
    // Never taken up again, even once the database is back and the retry is long due.
    breakable.state.broken = false;
    const attempts = breakable.state.attempts.get(key);
    nowMs += 24 * 3600_000;
    expect(await engine().startBackground()).not.toContain(`secret/${key}`);
    await engine().backgroundIdle();
    expect(breakable.state.attempts.get(key)).toBe(attempts);
    // Grace 0 and a day past it: the old value stays (the operator decides).
    expect(await engine().retireDue(nowMs)).not.toContain(`secret/${key}`);
    expect(breakable.state.retired.has(key)).toBe(false);
    const previous = await s.request('GET', `secret/data/${key}?stage=previous`);
    expect(previous.body.data.data.value).toBe(old);
    // Abandoning twice: nothing left to abandon.
    expect((await abandon(key, { reason: 'again' })).status).toBe(400);
    // The secret rotates again, and that rotation's work runs as usual.
    const again = await s.request('POST', `sys/rotate-secret/secret/${key}`, {
      body: { force: true, reason: 'after abandoning' },
    });
    expect(again.status).toBe(200);
    expect(again.body.data.result).toBe('succeeded');
    await engine().backgroundIdle();
    expect((await lastRun(key)).background.state).toBe('done');
    // The abandoned run's history entry keeps its record, still not retired.
    const runs = (await s.request('GET', `sys/rotation-history/secret/${key}`)).body.data.runs;
    expect(runs.filter((x: { abandoned?: unknown }) => x.abandoned !== undefined)).toHaveLength(1);
    expect(runs.find((x: { abandoned?: unknown }) => x.abandoned !== undefined).retired).toBe(
      false,
    );
  });

  it('refuses when there is no background work to abandon', async () => {
    const key = 'abandon/none';
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: value() } } });
    await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'random', schedule: '90d', grace_period: '0s' },
    });
    expect((await abandon(key, { reason: 'nothing' })).status).toBe(400);
    await s.request('POST', `sys/rotate-secret/secret/${key}`, { body: { force: true } });
    const r = await abandon(key, { reason: 'nothing' });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatch(/no background work left to abandon/);
  });
});
