/**
 * Rotation of secrets on mounts of several segments (`A/b/`, `teams/x/kv/`) beside a mount of
 * one (`a/`): every stored name (`<mount>/<key>`: policies, runs, history, background jobs, the
 * scheduler's due list, change events) is read back by the mount table in force (the longest
 * mount path it starts with), never by its first segment, so a name never reaches another
 * mount's secret. Mounts cannot nest (`a/b/` beside `a/` is refused), so the mounts here share
 * what they can: a first segment in another case (`a/` and `A/b/`, where `a/b/k` and `A/b/k`
 * are two secrets) and a prefix (`teams/x/kv/` and `teams/x/kv2/`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

/** A value no test writes twice, so a leak or a write to the wrong secret is unmistakable. */
const canary = () => `rot-mount-${randomBytes(10).toString('hex')}`;

/** The secrets, by their stored name: the KV path of each (`<mount>/data/<key>`). */
const SECRETS = {
  'a/b/k': 'a/data/b/k',
  'A/b/k': 'A/b/data/k',
  'teams/x/kv/db': 'teams/x/kv/data/db',
  'teams/x/kv2/db': 'teams/x/kv2/data/db',
} as const;
type Name = keyof typeof SECRETS;

const HOUR = 3600 * 1000;
/** The secrets with a rotation policy (every four hours); `teams/x/kv2/db` has none. */
const ROTATED = ['a/b/k', 'A/b/k', 'teams/x/kv/db'] as const;

describe.each(await storageKinds())('rotation on mounts of several segments on %s', (kind) => {
  let s: TestServer;
  let nowMs = Date.now();
  const values = new Map<Name, string>();

  beforeAll(async () => {
    s = await startTestServer(kind, {
      clock: () => nowMs,
      rotationSchedulerIntervalMs: 0,
      rotationScheduler: { jitterMs: 0 },
    });
    for (const path of ['a', 'A/b', 'teams/x/kv', 'teams/x/kv2'])
      expect(
        (await s.request('POST', `sys/mounts/${path}`, { body: { type: 'kv-v2' } })).status,
      ).toBe(204);
    // Mounts never nest, in one case: a/b/ beside a/ is refused; A/b/ is another mount.
    expect((await s.request('POST', 'sys/mounts/a/b', { body: { type: 'kv-v2' } })).status).toBe(
      400,
    );
    for (const [name, path] of Object.entries(SECRETS) as [Name, string][]) {
      const value = canary();
      values.set(name, value);
      expect((await s.request('POST', path, { body: { data: { value } } })).status).toBe(200);
    }
    // Each test may run alone (mutation runs run only the tests they need): the policies the
    // rotating tests need are written here; the first test writes them again and reads them.
    for (const name of ROTATED) expect((await writePolicy(name)).status, name).toBe(204);
  });
  afterAll(async () => {
    await s.close();
  });

  const writePolicy = (name: string) =>
    s.request('POST', `sys/rotation/${name}`, {
      body: { rotator: 'random', schedule: '4h', grace_period: '0s' },
    });

  /** The value `current` holds for each secret, and its version. */
  const state = async () => {
    const out: Record<string, { value: string; version: number }> = {};
    for (const [name, path] of Object.entries(SECRETS)) {
      const read = await s.request('GET', path);
      expect(read.status, path).toBe(200);
      out[name] = { value: read.body.data.data.value, version: read.body.data.metadata.version };
    }
    return out;
  };

  /** Expects exactly `changed` to have a new current value (one version more) since `before`. */
  const expectRotated = async (
    before: Awaited<ReturnType<typeof state>>,
    changed: readonly Name[],
  ) => {
    const after = await state();
    for (const name of Object.keys(SECRETS) as Name[]) {
      const was = before[name] as { value: string; version: number };
      const now = after[name] as { value: string; version: number };
      if (changed.includes(name)) {
        expect(now.version, name).toBe(was.version + 1);
        expect(now.value, name).not.toBe(was.value);
      } else {
        expect(now, name).toEqual(was);
      }
    }
    return after;
  };

  it('writes, reads, lists and deletes policies by the mount the table resolves', async () => {
    for (const name of ROTATED) {
      const written = await writePolicy(name);
      expect(written.status, name).toBe(204);
      const read = await s.request('GET', `sys/rotation/${name}`);
      expect(read.status, name).toBe(200);
      expect(read.body.data).toMatchObject({ secret: name, rotator: 'random', automatic: true });
    }
    // Neither the sibling sharing a prefix nor another case shares a policy.
    expect((await s.request('GET', 'sys/rotation/teams/x/kv2/db')).status).toBe(404);
    expect((await s.request('GET', 'sys/rotation/a/B/k')).status).toBe(404);
    expect((await s.request('GET', 'sys/rotation/TEAMS/x/kv/db')).status).toBe(400);
    const listed = await s.request('LIST', 'sys/rotation');
    expect([...listed.body.data.keys].sort()).toEqual(['A/b/k', 'a/b/k', 'teams/x/kv/db']);
    // A path naming a mount or a folder of one, or no KV mount, is refused.
    for (const path of ['teams/x/kv', 'teams/x/kv/', 'teams/x', 'teams/x/db', 'A/b'])
      expect(
        (
          await s.request('POST', `sys/rotation/${path}`, {
            body: { rotator: 'random', schedule: '4h' },
          })
        ).status,
        path,
      ).toBe(400);
    expect(
      (
        await s.request('POST', 'sys/rotation/teams/x/kv2/db', {
          body: { rotator: 'random', schedule: '4h' },
        })
      ).status,
    ).toBe(204);
    expect((await s.request('DELETE', 'sys/rotation/teams/x/kv2/db')).status).toBe(204);
    expect((await s.request('GET', 'sys/rotation/teams/x/kv2/db')).status).toBe(404);
  });

  it('rotates each secret on its own mount only, with its history under its name', async () => {
    let before = await state();
    for (const name of ['A/b/k', 'a/b/k', 'teams/x/kv/db'] as const) {
      const rotated = await s.request('POST', `sys/rotate-secret/${name}`, {
        body: { force: true },
      });
      expect(rotated.status, name).toBe(200);
      expect(rotated.body.data).toMatchObject({ secret: name, result: 'succeeded' });
      before = await expectRotated(before, [name]);
      const history = await s.request('GET', `sys/rotation-history/${name}`);
      expect(history.status, name).toBe(200);
      expect(history.body.data.secret).toBe(name);
      expect(history.body.data.runs).toHaveLength(1);
      expect(history.body.data.runs[0]).toMatchObject({ secret: name, state: 'succeeded' });
      for (const value of values.values()) expect(history.text).not.toContain(value);
    }
    expect((await s.request('GET', 'sys/rotation-history/teams/x/kv2/db')).body.data.runs).toEqual(
      [],
    );
  });

  it('refuses a secret read by its first segment: the engine resolves the name itself', async () => {
    const before = await state();
    // `teams/x/kv/db` split at its first segment: the name resolves to teams/x/kv/, not teams/.
    await expect(
      s.server.context.rotation.engine.rotate({ mount: 'teams', key: 'x/kv/db' }, { by: 'test' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_REQUEST' });
    await expect(
      s.server.context.rotation.engine.rotate({ mount: 'A', key: 'b/k' }, { by: 'test' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_REQUEST' });
    expect(await s.server.context.rotation.engine.refOf('teams/x/kv/db')).toEqual({
      mount: 'teams/x/kv',
      key: 'db',
    });
    expect(await s.server.context.rotation.engine.refOf('a/b/k')).toEqual({
      mount: 'a',
      key: 'b/k',
    });
    expect(await s.server.context.rotation.engine.refOf('A/b/k')).toEqual({
      mount: 'A/b',
      key: 'k',
    });
    await expect(s.server.context.rotation.engine.refOf('teams/db')).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    await expectRotated(before, []);
  });

  it('the scheduler rotates the due secrets, each on its own mount, and reports them by name', async () => {
    const before = await state();
    nowMs += 5 * HOUR;
    const status = await s.request('GET', 'sys/rotation-status');
    const overdue = status.body.data.secrets
      .filter((x: { overdue: boolean }) => x.overdue)
      .map((x: { secret: string }) => x.secret)
      .sort();
    expect(overdue).toEqual(['A/b/k', 'a/b/k', 'teams/x/kv/db']);
    const report = await s.server.context.rotation.scheduler.tick();
    expect(report.leader).toBe(true);
    expect(report.rotated.map((r) => [r.secret, r.result]).sort()).toEqual([
      ['A/b/k', 'succeeded'],
      ['a/b/k', 'succeeded'],
      ['teams/x/kv/db', 'succeeded'],
    ]);
    await expectRotated(before, ['A/b/k', 'a/b/k', 'teams/x/kv/db']);
    // Nothing is due right after.
    const again = await s.server.context.rotation.scheduler.tick();
    expect(again.rotated).toEqual([]);
  });

  it('announces a rotation to a token that may read the secret on its mount of several segments', async () => {
    await s.policy('events-nested', {
      'sys/events/kv': ['read'],
      'teams/x/kv/data/*': ['read'],
    });
    const reader = await s.token({ policies: ['events-nested'], no_default_policy: true });
    const first = await send(s.url, 'GET', 'sys/events/kv?wait=0', { token: reader });
    expect(first.status).toBe(200);
    let at = first.body.data.index as number;
    for (const name of ['teams/x/kv/db', 'A/b/k'] as const)
      expect(
        (await s.request('POST', `sys/rotate-secret/${name}`, { body: { force: true } })).body.data
          .result,
      ).toBe('succeeded');
    const paths: string[] = [];
    while (!paths.includes('teams/x/kv/db')) {
      const answer = await send(s.url, 'GET', `sys/events/kv?index=${at}&wait=5s`, {
        token: reader,
      });
      expect(answer.status).toBe(200);
      at = answer.body.data.index;
      for (const e of answer.body.data.events as { path: string; kind: string }[])
        if (e.kind === 'rotation') paths.push(e.path);
    }
    // The other mount's rotation is not the reader's to see.
    expect(paths).toEqual(['teams/x/kv/db']);
  });

  it('policies on the ACL are case-sensitive: a grant on A/b/ reaches nothing of a/', async () => {
    await s.policy('rotate-upper', {
      'sys/rotation/A/b/*': ['read', 'update'],
      'sys/rotate-secret/A/b/*': ['update'],
    });
    const token = await s.token({ policies: ['rotate-upper'], no_default_policy: true });
    expect((await send(s.url, 'GET', 'sys/rotation/A/b/k', { token })).status).toBe(200);
    for (const path of ['sys/rotation/a/b/k', 'sys/rotation/a/B/k'])
      expect((await send(s.url, 'GET', path, { token })).status, path).toBe(403);
    const before = await state();
    expect(
      (await send(s.url, 'POST', 'sys/rotate-secret/a/b/k', { token, body: { force: true } }))
        .status,
    ).toBe(403);
    await expectRotated(before, []);
  });

  it('a policy never drives the secret of a mount enabled later where its name resolves', async () => {
    const policy = { rotator: 'random', schedule: '4h', grace_period: '0s' };
    const version = async (path: string) =>
      (await s.request('GET', path)).body.data.metadata.version as number;
    // A policy for gone/b/'s secret k; then gone/b/ is disabled (its policy goes with it) and
    // gone/ enabled, whose key b/k now answers to the name gone/b/k.
    expect((await s.request('POST', 'sys/mounts/gone/b', { body: { type: 'kv-v2' } })).status).toBe(
      204,
    );
    await s.request('POST', 'gone/b/data/k', { body: { data: { value: canary() } } });
    expect((await s.request('POST', 'sys/rotation/gone/b/k', { body: policy })).status).toBe(204);
    expect((await s.request('DELETE', 'sys/mounts/gone/b')).status).toBe(204);
    expect((await s.request('POST', 'sys/mounts/gone', { body: { type: 'kv-v2' } })).status).toBe(
      204,
    );
    const value = canary();
    await s.request('POST', 'gone/data/b/k', { body: { data: { value } } });
    expect((await s.request('GET', 'sys/rotation/gone/b/k')).status).toBe(404);
    expect(
      (await s.request('POST', 'sys/rotate-secret/gone/b/k', { body: { force: true } })).status,
    ).toBe(404);
    // A policy left by a version before disable removed them (written here by hand) is still
    // refused for the new mount's secret: it names the gone mount's uuid.
    const store = s.server.context.rotation.store;
    expect((await s.request('POST', 'sys/rotation/gone/b/k', { body: policy })).status).toBe(204);
    const written = await store.readPolicy('gone/b/k');
    expect(written).toBeDefined();
    if (written !== undefined)
      await store.writePolicy('gone/b/k', { ...written, mount_uuid: 'a-mount-disabled-before' });
    const refused = await s.request('POST', 'sys/rotate-secret/gone/b/k', {
      body: { force: true },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/another mount than the one its rotation policy/);
    await expect(s.server.context.rotation.engine.refOf('gone/b/k')).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    nowMs += 5 * HOUR;
    const report = await s.server.context.rotation.scheduler.tick();
    expect(report.rotated.map((r) => r.secret)).not.toContain('gone/b/k');
    expect(await version('gone/data/b/k')).toBe(1);
    expect((await s.request('GET', 'gone/data/b/k')).body.data.data.value).toBe(value);
    // Written again, for the mount there now: it rotates that secret.
    expect((await s.request('POST', 'sys/rotation/gone/b/k', { body: policy })).status).toBe(204);
    expect(
      (await s.request('POST', 'sys/rotate-secret/gone/b/k', { body: { force: true } })).body.data
        .result,
    ).toBe('succeeded');
    expect(await version('gone/data/b/k')).toBe(2);
    expect((await s.request('DELETE', 'sys/rotation/gone/b/k')).status).toBe(204);
  });

  it('a mount moved away takes its policy along: the old name resolves to nothing, the new one rotates', async () => {
    const moving = (await s.request('GET', 'A/b/data/k')).body.data.metadata.version as number;
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'A/b', to: 'moved/b' } })).status,
    ).toBe(200);
    expect((await s.request('GET', 'A/b/data/k')).status).toBe(404);
    const rotated = await s.request('POST', 'sys/rotate-secret/A/b/k', { body: { force: true } });
    expect(rotated.status).toBe(400);
    await expect(s.server.context.rotation.engine.refOf('A/b/k')).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    expect(await s.server.context.rotation.store.readPolicy('A/b/k')).toBeUndefined();
    // The scheduler rotates every due secret on its own mount, the moved one by its new name.
    const version = async (path: string) =>
      (await s.request('GET', path)).body.data.metadata.version as number;
    const [a, teams, sibling] = [
      await version('a/data/b/k'),
      await version('teams/x/kv/data/db'),
      await version('teams/x/kv2/data/db'),
    ];
    nowMs += 5 * HOUR;
    const report = await s.server.context.rotation.scheduler.tick();
    expect(report.rotated.map((r) => r.secret).sort()).toEqual([
      'a/b/k',
      'moved/b/k',
      'teams/x/kv/db',
    ]);
    expect(await version('a/data/b/k')).toBe(a + 1);
    expect(await version('teams/x/kv/data/db')).toBe(teams + 1);
    expect(await version('teams/x/kv2/data/db')).toBe(sibling);
    expect(await version('moved/b/data/k')).toBe(moving + 1);
  });
});
