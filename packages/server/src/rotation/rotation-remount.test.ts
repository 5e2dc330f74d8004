/**
 * The rotation state of a mount's secrets follows the mount (mount-lifecycle.ts): a remount
 * moves policies, runs, history, background jobs and approval requests to the new path; a
 * disable removes them. Both in the mount table's transaction; races with running rotations.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { heldSteps } from '../../test/held-steps.js';
import { ROTATION } from '../storage/layout.js';
import { createApprovalStore } from './approval-store.js';
import { builtInRotators } from './built-in-rotators.js';
import type { Rotator } from './rotator.js';

const value = () => `rot-remount-${randomBytes(10).toString('hex')}`;
const AREAS = [ROTATION.policy, ROTATION.run, ROTATION.history, ROTATION.job, ROTATION.lease];

/** A rotator whose set waits for its signal the first time per secret; counts finishes. */
function heldRotator() {
  const held = heldSteps();
  const aborted = new Set<string>();
  const finishes: string[] = [];
  const rotator: Rotator = {
    name: 'held-set',
    checkSettings: () => {},
    create: async () => ({ value: value() }),
    async set(context) {
      await held.holdFirst(context.secret.key, context.signal, () =>
        aborted.add(context.rotationId),
      );
    },
    test: async () => {},
    finish: async (context) => {
      finishes.push(context.rotationId);
    },
  };
  /** Background work that waits for its signal the first time per secret, then succeeds. */
  const background: Rotator = {
    name: 'held-background',
    checkSettings: () => {},
    create: async () => ({ value: value() }),
    set: async () => {},
    test: async () => {},
    async background(context) {
      const key = `background:${context.secret.key}`;
      await held.holdFirst(key, context.signal, () => aborted.add(key));
    },
  };
  return { rotator, background, aborted, finishes, enteredOf: held.enteredOf };
}

describe.each(await storageKinds())('rotation state through remount and disable on %s', (kind) => {
  let s: TestServer;
  const held = heldRotator();
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(held.rotator);
    rotators.register(held.background);
    s = await startTestServer(kind, {
      rotators,
      rotationSchedulerIntervalMs: 0,
      rotationRunLeaseMs: 300,
      rotationBackgroundLeaseMs: 300,
    });
  });
  afterAll(async () => {
    await s.close();
  });

  const engine = () => s.server.context.rotation.engine;
  const store = () => s.server.context.rotation.store;
  const mount = async (path: string) =>
    expect(
      (await s.request('POST', `sys/mounts/${path}`, { body: { type: 'kv-v2' } })).status,
    ).toBe(204);
  const secretAt = async (mountPath: string, key: string, rotator = 'random') => {
    const written = await s.request('POST', `${mountPath}/data/${key}`, {
      body: { data: { value: value() } },
    });
    expect(written.status).toBe(200);
    const policy = await s.request('POST', `sys/rotation/${mountPath}/${key}`, {
      body: { rotator, schedule: '90d', grace_period: '1h' },
    });
    expect(policy.status).toBe(204);
  };
  const rotate = (name: string) =>
    s.request('POST', `sys/rotate-secret/${name}`, { body: { force: true } });
  const historyOf = async (name: string) =>
    (await s.request('GET', `sys/rotation-history/${name}`)).body.data?.runs as
      | { id: string; secret: string; result?: string; state?: string }[]
      | undefined;
  /** What rotation state storage still keeps under a mount path (`m/a/`), in any area. */
  const leftovers = async (mountPath: string) => {
    const barrier = s.server.context.barrier;
    const out: string[] = [];
    for (const area of AREAS)
      out.push(...(await barrier.listPaths(`${ROTATION.prefix}${area}${mountPath}`)));
    for (const request of await createApprovalStore(barrier, Date.now).list())
      if (request.secret.startsWith(mountPath)) out.push(`request for ${request.secret}`);
    return out;
  };

  it('a remount moves the policy, history and approval requests; rotation goes on at the new path', async () => {
    await mount('rm/from');
    await secretAt('rm/from', 'db');
    expect((await rotate('rm/from/db')).body.data.result).toBe('succeeded');
    const policyBefore = (await s.request('GET', 'sys/rotation/rm/from/db')).body.data;
    const approvals = createApprovalStore(s.server.context.barrier, Date.now);
    const request = await approvals.open({
      secret: 'rm/from/db',
      requester: 'alice',
      requesterAccessor: 'accessor-a',
      approvalsRequired: 1,
      ttlSeconds: 3600,
    });
    const moved = await s.request('POST', 'sys/remount', {
      body: { from: 'rm/from', to: 'rm/to' },
    });
    expect(moved.status).toBe(200);
    expect(await leftovers('rm/from/')).toEqual([]);
    const policyAfter = await s.request('GET', 'sys/rotation/rm/to/db');
    expect(policyAfter.status).toBe(200);
    expect(policyAfter.body.data).toMatchObject({
      rotator: policyBefore.rotator,
      created_time: policyBefore.created_time,
    });
    expect((await store().readPolicy('rm/to/db'))?.mount_uuid).toBe(
      (await s.server.context.mounts.get('rm/to/'))?.uuid,
    );
    const history = await historyOf('rm/to/db');
    expect(history).toHaveLength(1);
    expect(history?.[0]?.secret).toBe('rm/to/db');
    expect((await approvals.read(request.id))?.secret).toBe('rm/to/db');
    // Rotation at the new path, the history there; the old name names nothing.
    expect((await rotate('rm/to/db')).body.data.result).toBe('succeeded');
    expect(await historyOf('rm/to/db')).toHaveLength(2);
    expect((await rotate('rm/from/db')).status).toBe(400);
    expect(await leftovers('rm/from/')).toEqual([]);
  });

  it('a disable removes it all: the secret made again at the old path has no policy and no history', async () => {
    await mount('dis/a');
    await secretAt('dis/a', 'db');
    expect((await rotate('dis/a/db')).body.data.result).toBe('succeeded');
    const approvals = createApprovalStore(s.server.context.barrier, Date.now);
    await approvals.open({
      secret: 'dis/a/db',
      requester: 'alice',
      requesterAccessor: 'accessor-a',
      approvalsRequired: 1,
      ttlSeconds: 3600,
    });
    expect(await leftovers('dis/a/')).not.toEqual([]);
    expect((await s.request('DELETE', 'sys/mounts/dis/a')).status).toBe(204);
    expect(await leftovers('dis/a/')).toEqual([]);
    await mount('dis/a');
    await s.request('POST', 'dis/a/data/db', { body: { data: { value: value() } } });
    expect((await s.request('GET', 'sys/rotation/dis/a/db')).status).toBe(404);
    expect((await rotate('dis/a/db')).status).toBe(404);
    expect(await historyOf('dis/a/db')).toEqual([]);
    expect(await store().listPolicies()).not.toContain('dis/a/db');
  });

  it('moves and removes only names of the mount itself: not another case, not a sibling sharing a prefix', async () => {
    for (const path of ['cs', 'CS/x', 'cs2']) await mount(path);
    await secretAt('cs', 'x/k');
    await secretAt('CS/x', 'k');
    await secretAt('cs2', 'k');
    for (const name of ['cs/x/k', 'CS/x/k', 'cs2/k'])
      expect((await rotate(name)).body.data.result).toBe('succeeded');
    expect((await s.request('DELETE', 'sys/mounts/cs')).status).toBe(204);
    expect(await leftovers('cs/')).toEqual([]);
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'cs2', to: 'cs3' } })).status,
    ).toBe(200);
    for (const name of ['CS/x/k', 'cs3/k']) {
      expect(await store().readPolicy(name), name).toBeDefined();
      expect(await store().history(name), name).toHaveLength(1);
      expect((await rotate(name)).body.data.result).toBe('succeeded');
    }
    expect(await leftovers('cs2/')).toEqual([]);
  });

  it('a remount while a rotation runs: its node stops and saves nothing, the run finishes once at the new path', async () => {
    await mount('race/from');
    await secretAt('race/from', 'db', 'held-set');
    const rotation = rotate('race/from/db');
    await held.enteredOf('db');
    const started = await store().readRun('race/from/db');
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'race/from', to: 'race/to' } }))
        .status,
    ).toBe(200);
    // Its node finds the run gone at its next renewal: the step's signal fires.
    await vi.waitFor(() => expect(held.aborted.has(started?.id ?? '')).toBe(true), {
      timeout: 10_000,
    });
    const answer = await rotation;
    expect(answer.status).toBe(409);
    expect(await leftovers('race/from/')).toEqual([]);
    expect(await store().readRun('race/to/db')).toMatchObject({
      id: started?.id,
      secret: 'race/to/db',
      state: 'running',
      step: 'set',
      lease_until_ms: 0,
    });
    const resumed = await engine().resume('race/to/db');
    expect(resumed).toMatchObject({ id: started?.id, result: 'succeeded' });
    expect(held.finishes.filter((id) => id === started?.id)).toHaveLength(1);
    const history = await historyOf('race/to/db');
    expect(history?.map((h) => [h.id, h.secret])).toEqual([[started?.id, 'race/to/db']]);
    expect(await leftovers('race/from/')).toEqual([]);
  });

  it('a disable while a rotation runs: its node stops, nothing of the run is left', async () => {
    await mount('race/gone');
    await secretAt('race/gone', 'dbx', 'held-set');
    const rotation = rotate('race/gone/dbx');
    await held.enteredOf('dbx');
    const started = await store().readRun('race/gone/dbx');
    expect((await s.request('DELETE', 'sys/mounts/race/gone')).status).toBe(204);
    await vi.waitFor(() => expect(held.aborted.has(started?.id ?? '')).toBe(true), {
      timeout: 10_000,
    });
    expect((await rotation).status).toBe(409);
    expect(await leftovers('race/gone/')).toEqual([]);
    expect(held.finishes).not.toContain(started?.id);
  });

  it('background work follows a remount (taken up under the new name) and ends with a disable', async () => {
    await mount('bg/from');
    await secretAt('bg/from', 'job', 'held-background');
    expect((await rotate('bg/from/job')).body.data.background).toBe('running');
    await held.enteredOf('background:job');
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'bg/from', to: 'bg/to' } })).status,
    ).toBe(200);
    // Its node finds its claim gone at the next renewal: the work stops, records nothing.
    await vi.waitFor(() => expect(held.aborted.has('background:job')).toBe(true), {
      timeout: 10_000,
    });
    await engine().backgroundIdle();
    expect(await leftovers('bg/from/')).toEqual([]);
    const job = await store().readJob('bg/to/job');
    expect(job).toMatchObject({ secret: 'bg/to/job', state: 'pending' });
    expect(job?.owner).toBeUndefined();
    expect(await engine().startBackground()).toEqual(['bg/to/job']);
    await engine().backgroundIdle();
    expect((await store().readJob('bg/to/job'))?.state).toBe('done');
    const [entry] = await store().history('bg/to/job');
    expect(entry?.steps.filter((x) => x.step === 'background').map((x) => x.result)).toEqual([
      'ok',
    ]);

    await mount('bg/gone');
    await secretAt('bg/gone', 'job2', 'held-background');
    expect((await rotate('bg/gone/job2')).body.data.background).toBe('running');
    await held.enteredOf('background:job2');
    expect((await s.request('DELETE', 'sys/mounts/bg/gone')).status).toBe(204);
    await vi.waitFor(() => expect(held.aborted.has('background:job2')).toBe(true), {
      timeout: 10_000,
    });
    await engine().backgroundIdle();
    expect(await leftovers('bg/gone/')).toEqual([]);
    expect(await engine().startBackground()).toEqual([]);
  });

  it('rotations racing a remount never leave state under the old name, and all end at the new one', async () => {
    // Rounds that move the mount at a different moment of the rotations.
    for (const [round, delayMs] of [0, 2, 5, 10, 20].entries()) {
      const [from, to] = [`many${round}/from`, `many${round}/to`];
      await mount(from);
      const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
      for (const key of keys) await secretAt(from, key);
      const rotations = keys.map((key) =>
        engine()
          .rotate({ mount: from, key }, { by: 'test' })
          .catch((err: unknown) => err),
      );
      await new Promise((r) => setTimeout(r, delayMs));
      const moved = await s.request('POST', 'sys/remount', { body: { from, to } });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      for (const outcome of await Promise.all(rotations)) {
        // Each ended before the move, was stopped by it, or was refused (the name was gone).
        if (outcome instanceof Error)
          expect(
            ['ERR_ROTATION_IN_PROGRESS', 'ERR_NOT_FOUND', 'ERR_INVALID_REQUEST'],
            outcome.message,
          ).toContain((outcome as { code?: string }).code);
      }
      expect(await leftovers(`${from}/`)).toEqual([]);
      await engine().resumeAll();
      for (const key of keys) {
        const run = await store().readRun(`${to}/${key}`);
        if (run === undefined) continue; // refused before it started
        expect(run.state, key).not.toBe('running');
        expect(run.secret).toBe(`${to}/${key}`);
        const history = await historyOf(`${to}/${key}`);
        expect(history?.filter((h) => h.id === run.id)).toHaveLength(1);
      }
      expect(await leftovers(`${from}/`)).toEqual([]);
      for (const key of keys)
        expect((await rotate(`${to}/${key}`)).body.data.result).toBe('succeeded');
    }
  });
});
