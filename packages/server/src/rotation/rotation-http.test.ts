import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { pathVariants, sendTarget } from '../../test/path-variants.js';
import { builtInRotators } from './built-in-rotators.js';
import type { Rotator } from './rotator.js';

/** The KV mount the secrets of these tests live in. */
const MOUNT = 'secret';

/** A value no test writes twice, so a leak of it is unmistakable. */
const canary = () => `rot-canary-${randomBytes(12).toString('hex')}`;

/** A rotator whose test step fails: its rollback must leave `current` as it was. */
const failingTest: Rotator = {
  name: 'failing-test',
  checkSettings: () => {},
  create: async ({ current }) => ({ ...current, value: canary() }),
  set: async () => {},
  // The message quotes the pending value: the engine must scrub it from history and answers.
  test: async ({ pending }) => {
    throw new Error(`target refused ${String(pending.value)}`);
  },
};

describe.each(await storageKinds())('the rotation engine over HTTP on %s', (kind) => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  let nowMs = Date.now();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-rotation-'));
    auditFile = join(dir, 'audit.log');
    const rotators = builtInRotators();
    rotators.register(failingTest);
    s = await startTestServer(kind, {
      rotators,
      clock: () => nowMs,
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const write = (key: string, data: Record<string, unknown>) =>
    s.request('POST', `secret/data/${key}`, { body: { data } });
  const setPolicy = (key: string, body: Record<string, unknown>) =>
    s.request('POST', `sys/rotation/secret/${key}`, { body });
  const rotate = (key: string, body: Record<string, unknown> = { force: true }) =>
    s.request('POST', `sys/rotate-secret/secret/${key}`, { body });

  it('writes, reads, lists and deletes policies, filling defaults from the secret type', async () => {
    expect((await setPolicy('pol/api', { type: 'api_key' })).status).toBe(204);
    const read = await s.request('GET', 'sys/rotation/secret/pol/api');
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({
      secret: `${MOUNT}/pol/api`,
      type: 'api_key',
      rotator: 'random',
      schedule: '2160h0m0s',
      schedule_kind: 'interval',
      grace_period: '48h0m0s',
      automatic: true,
    });
    expect(
      (
        await setPolicy('pol/cron', {
          rotator: 'random',
          schedule: '0 3 * * 0',
          window: '2h',
          grace_period: '1h',
          automatic: false,
          notify_before: '72h',
          settings: { length: 48, charset: 'hex' },
        })
      ).status,
    ).toBe(204);
    const cron = await s.request('GET', 'sys/rotation/secret/pol/cron');
    expect(cron.body.data).toMatchObject({
      schedule: '0 3 * * 0',
      schedule_kind: 'cron',
      window: '2h0m0s',
      automatic: false,
      settings: { length: 48, charset: 'hex' },
    });
    const list = await s.request('LIST', 'sys/rotation');
    expect(list.body.data.keys).toEqual(
      expect.arrayContaining(['secret/pol/api', 'secret/pol/cron']),
    );
    expect((await s.request('DELETE', 'sys/rotation/secret/pol/cron')).status).toBe(204);
    expect((await s.request('GET', 'sys/rotation/secret/pol/cron')).status).toBe(404);
  });

  it('refuses bad policies with a message naming the field, writing nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ rotator: 'random' }, /schedule is required/],
      [{ schedule: '90d' }, /rotator is required/],
      [{ rotator: 'random', schedule: '1h' }, /at least 4h/],
      [{ rotator: 'random', schedule: '61 * * * *' }, /neither a duration nor a valid cron/],
      [{ rotator: 'random', schedule: '* * *' }, /five fields/],
      [{ rotator: 'random', schedule: '90d', window: '1h' }, /window applies to a cron/],
      [{ rotator: 'nope', schedule: '90d' }, /rotator nope is not available/],
      [{ rotator: 'random', schedule: '90d', settings: { length: 4 } }, /settings.length/],
      [{ rotator: 'random', schedule: '90d', settings: [1] }, /settings must be an object/],
      [{ type: 'passwords', schedule: '90d' }, /type must be one of/],
      [{ rotator: 'random', schedule: '90d', automatic: 'yes' }, /automatic/],
      [{ rotator: 'random', schedule: '90d', grace_period: 'soon' }, /grace_period/],
    ];
    for (const [body, message] of cases) {
      const r = await setPolicy('pol/bad', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors.join(' '), JSON.stringify(body)).toMatch(message);
    }
    expect((await s.request('GET', 'sys/rotation/secret/pol/bad')).status).toBe(404);
    // A path that names no secret of a KV mount.
    for (const path of [
      'sys/rotation/secret/',
      'sys/rotation/transit/keys/a',
      'sys/rotation/nope/a',
    ]) {
      const r = await s.request('POST', path, { body: { rotator: 'random', schedule: '90d' } });
      expect(r.status, path).toBe(400);
    }
  });

  it('rotates with random: the new value is current, the old previous, labels agree with AWS', async () => {
    const old = canary();
    await write('app/api', { value: old, note: 'kept' });
    await setPolicy('app/api', { rotator: 'random', schedule: '90d', grace_period: '1h' });
    const r = await rotate('app/api', { force: true, reason: 'test rotation' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ result: 'succeeded', from_version: 1, new_version: 2 });
    expect(r.body.data.steps.map((x: { step: string }) => x.step)).toEqual([
      'create',
      'set',
      'test',
      'finish',
    ]);
    expect(r.body.data.new_fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    const current = await s.request('GET', 'secret/data/app/api');
    expect(current.body.data.data.note).toBe('kept');
    expect(current.body.data.data.value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(current.body.data.data.value).not.toBe(old);
    const previous = await s.request('GET', 'secret/data/app/api?stage=previous');
    expect(previous.body.data.data.value).toBe(old);
    expect((await s.request('GET', 'secret/data/app/api?stage=pending')).status).toBe(404);
    const meta = await s.server.context.kv.readMetadata('app/api');
    expect(meta?.labels).toEqual({ AWSCURRENT: 2, AWSPREVIOUS: 1 });

    const history = await s.request('GET', 'sys/rotation-history/secret/app/api');
    expect(history.body.data.runs).toHaveLength(1);
    const run = history.body.data.runs[0];
    expect(run).toMatchObject({
      state: 'succeeded',
      by: expect.any(String),
      reason: 'test rotation',
    });
    expect(run.by).not.toBe('root'); // an accessor, never the token
    expect(run.old_fingerprint).toMatch(/^hmac-sha256:/);
    expect(run.old_fingerprint).not.toBe(run.new_fingerprint);
    expect(history.text).not.toContain(old);
    expect(history.text).not.toContain(current.body.data.data.value);

    // Not due (rotated just now): without force nothing happens.
    const again = await rotate('app/api', {});
    expect(again.body.data).toMatchObject({ result: 'not_due' });
    expect((await s.server.context.kv.readMetadata('app/api'))?.current_version).toBe(2);
  });

  it('refuses to rotate a key that keeps fewer than 3 versions (current would be trimmed)', async () => {
    const old = canary();
    await write('app/short', { value: old });
    await s.request('POST', 'secret/metadata/app/short', { body: { max_versions: 1 } });
    await setPolicy('app/short', { rotator: 'random', schedule: '90d' });
    const r = await rotate('app/short');
    expect(r.body.data.result).toBe('rolled_back');
    expect(r.body.data.error).toMatch(/at least 3 versions/);
    expect((await s.request('GET', 'secret/data/app/short')).body.data.data.value).toBe(old);
    expect((await s.server.context.kv.readMetadata('app/short'))?.current_version).toBe(1);
  });

  it('a dry run writes nothing and answers the plan without a value', async () => {
    const old = canary();
    await write('app/dry', { value: old });
    await setPolicy('app/dry', { rotator: 'random', schedule: '90d' });
    const r = await rotate('app/dry', { dry_run: true });
    expect(r.body.data).toMatchObject({ result: 'planned', dry_run: true });
    expect(r.body.data.plan).toMatchObject({ rotator: 'random', from_version: 1 });
    expect(r.text).not.toContain(old);
    const meta = await s.server.context.kv.readMetadata('app/dry');
    expect(meta?.current_version).toBe(1);
    expect((await s.request('GET', 'sys/rotation-history/secret/app/dry')).body.data.runs).toEqual(
      [],
    );
  });

  it('a failing test step rolls back: current untouched, the pending version destroyed, no value in any answer', async () => {
    const old = canary();
    await write('app/fail', { value: old });
    await setPolicy('app/fail', { rotator: 'failing-test', schedule: '90d' });
    const r = await rotate('app/fail');
    expect(r.status).toBe(200);
    expect(r.body.data.result).toBe('rolled_back');
    expect(r.body.data.error).toContain('target refused [REDACTED]');
    expect((await s.request('GET', 'secret/data/app/fail')).body.data.data.value).toBe(old);
    const meta = await s.server.context.kv.readMetadata('app/fail');
    expect(meta?.labels).toEqual({ AWSCURRENT: 1 });
    expect(meta?.versions['2']?.destroyed).toBe(true);
    const history = await s.request('GET', 'sys/rotation-history/secret/app/fail');
    expect(history.body.data.runs[0].state).toBe('rolled_back');
    expect(
      history.body.data.runs[0].steps.map(
        (x: { step: string; result: string }) => `${x.step}:${x.result}`,
      ),
    ).toEqual(['create:ok', 'set:ok', 'test:failed', 'rollback:ok']);
    expect(history.text).not.toContain(old);
    // A new rotation may start: the failed one ended.
    expect((await rotate('app/fail')).body.data.result).toBe('rolled_back');
  });

  it('retires the previous value when the grace period ends', async () => {
    await write('app/grace', { value: canary() });
    await setPolicy('app/grace', { rotator: 'random', schedule: '90d', grace_period: '2h' });
    expect((await rotate('app/grace')).body.data.result).toBe('succeeded');
    const engine = s.server.context.rotation.engine;
    expect(await engine.retireDue(nowMs + 3600_000)).not.toContain('secret/app/grace');
    expect((await s.request('GET', 'secret/data/app/grace?stage=previous')).status).toBe(200);
    expect(await engine.retireDue(nowMs + 2 * 3600_000 + 1)).toContain('secret/app/grace');
    expect((await s.request('GET', 'secret/data/app/grace?stage=previous')).status).toBe(404);
    const runs = (await s.request('GET', 'sys/rotation-history/secret/app/grace')).body.data.runs;
    expect(runs.at(-1).retired).toBe(true);
  });

  it('reports status: next due from the last rotation, overdue once the clock passes it', async () => {
    await write('app/status', { value: canary() });
    await setPolicy('app/status', { rotator: 'random', schedule: '4h' });
    const before = await s.request('GET', 'sys/rotation-status');
    const entry = before.body.data.secrets.find(
      (x: { secret: string }) => x.secret === 'secret/app/status',
    );
    expect(entry).toMatchObject({ rotator: 'random', overdue: false, running: false });
    const saved = nowMs;
    nowMs += 4 * 3600_000 + 1;
    try {
      const after = await s.request('GET', 'sys/rotation-status');
      const overdue = after.body.data.secrets.find(
        (x: { secret: string }) => x.secret === 'secret/app/status',
      );
      expect(overdue.overdue).toBe(true);
      expect((await rotate('app/status', {})).body.data.result).toBe('succeeded');
    } finally {
      nowMs = saved;
    }
  });

  it('judges every spelling of a rotation path on the path it serves', async () => {
    await write('team/a/db', { value: canary() });
    await setPolicy('team/a/db', { rotator: 'random', schedule: '90d' });
    await write('team/b/db', { value: canary() });
    await setPolicy('team/b/db', { rotator: 'random', schedule: '90d' });
    await s.policy('rotation-team-b', {
      'sys/rotation/secret/team/b/*': ['read', 'update', 'create', 'delete'],
      'sys/rotate-secret/secret/team/b/*': ['update'],
      'sys/rotation-history/secret/team/b/*': ['read'],
    });
    const token = await s.token({ policies: ['rotation-team-b'] });
    // Its own secret: allowed.
    expect((await s.request('GET', 'sys/rotation/secret/team/b/db', { token })).status).toBe(200);
    // Every spelling that could reach team/a from team/b's grant is refused, never served.
    const attempts = [
      '/v1/sys/rotation/secret/team/b/../a/db',
      '/v1/sys/rotation/secret/team/b/%2e%2e/a/db',
      '/v1/sys/rotation/secret/team/b%2F..%2Fa/db',
      '/v1/sys/rotation/secret/team/b/x#/../../a/db',
      ...pathVariants('sys/rotation/secret/team/a/db').map((v) => v.target),
    ];
    for (const target of attempts) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const r = await sendTarget(s.url, method, target, {
          token,
          ...(method === 'POST' ? { body: { rotator: 'random', schedule: '90d' } } : {}),
        });
        expect(r.status === 200 || r.status === 204, `${method} ${target}: ${r.status}`).toBe(
          false,
        );
      }
      const run = await sendTarget(
        s.url,
        'POST',
        target.replace('sys/rotation/', 'sys/rotate-secret/'),
        {
          token,
          body: { force: true },
        },
      );
      expect(run.status === 200, `rotate ${target}`).toBe(false);
      const hist = await sendTarget(
        s.url,
        'GET',
        target.replace('sys/rotation/', 'sys/rotation-history/'),
        { token },
      );
      expect(hist.status === 200, `history ${target}`).toBe(false);
    }
    // team/a is untouched.
    expect((await s.server.context.kv.readMetadata('team/a/db'))?.current_version).toBe(1);
    expect((await s.request('GET', 'sys/rotation/secret/team/a/db')).status).toBe(200);
  });

  it('a token that may rotate but not read the secret learns no value: answers, history, dry run, audit', async () => {
    const old = canary();
    await write('team/c/key', { value: old });
    await setPolicy('team/c/key', { rotator: 'random', schedule: '90d', grace_period: '1h' });
    await s.policy('rotate-only', {
      'sys/rotate-secret/secret/team/c/*': ['update'],
      'sys/rotation-history/secret/team/c/*': ['read'],
      'sys/rotation/secret/team/c/*': ['read'],
    });
    const token = await s.token({ policies: ['rotate-only'] });
    const dry = await s.request('POST', 'sys/rotate-secret/secret/team/c/key', {
      token,
      body: { dry_run: true },
    });
    const done = await s.request('POST', 'sys/rotate-secret/secret/team/c/key', {
      token,
      body: { force: true },
    });
    expect(done.body.data.result).toBe('succeeded');
    const hist = await s.request('GET', 'sys/rotation-history/secret/team/c/key', { token });
    const policy = await s.request('GET', 'sys/rotation/secret/team/c/key', { token });
    expect((await s.request('GET', 'secret/data/team/c/key', { token })).status).toBe(403);
    expect(
      (await s.request('GET', 'secret/data/team/c/key?stage=previous', { token })).status,
    ).toBe(403);
    const now = (await s.request('GET', 'secret/data/team/c/key')).body.data.data.value as string;
    const audit = await readFile(auditFile, 'utf8');
    for (const text of [dry.text, done.text, hist.text, policy.text, audit]) {
      expect(text).not.toContain(old);
      expect(text).not.toContain(now);
    }
    // Every step is in the audit log.
    const steps = audit
      .split('\n')
      .filter(
        (l) => l.includes('sys/rotation-step/secret/team/c/key') && l.includes('"type":"request"'),
      );
    expect(steps.length).toBeGreaterThanOrEqual(4);
  });
});
