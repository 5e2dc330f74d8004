import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { createApprovalStore } from './approval-store.js';
import { builtInRotators } from './built-in-rotators.js';
import { type LeaderLock, postgresLeaderLock, singleNodeLeader } from './leader-lock.js';
import { createRotationEngine } from './rotation-engine.js';
import { createRotationScheduler, type SchedulerEvent } from './rotation-scheduler.js';
import { kvSecrets } from './rotation-target.js';
import type { Rotator } from './rotator.js';

/** The KV mount the secrets of these tests live in. */
const MOUNT = 'secret';

const HOUR = 3600_000;

describe.each(await storageKinds())('the rotation scheduler on %s', (kind) => {
  let s: TestServer;
  let nowMs = Date.parse('2030-01-01T00:00:00.000Z');
  let inSet = 0;
  let maxInSet = 0;
  /** A rotator whose set waits for company, to see how many run at once. */
  const slow: Rotator = {
    name: 'slow',
    checkSettings: () => {},
    create: async () => ({ value: randomBytes(8).toString('hex') }),
    set: async () => {
      inSet++;
      maxInSet = Math.max(maxInSet, inSet);
      // Holds on until a second set runs beside it (or 2 s pass): parallelism shows for sure.
      for (let waited = 0; inSet < 2 && waited < 2000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      inSet--;
    },
    test: async () => {},
  };
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(slow);
    s = await startTestServer(kind, {
      rotators,
      clock: () => nowMs,
      rotationSchedulerIntervalMs: 0, // ticks are driven by the tests
    });
  });
  afterAll(async () => {
    await s.close();
  });

  /** A scheduler on the server's storage, with its own engine (as another node would have). */
  const scheduler = (leader: LeaderLock = singleNodeLeader(), events: SchedulerEvent[] = []) => {
    const ctx = s.server.context;
    const engine = createRotationEngine({
      store: ctx.rotation.store,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock: () => nowMs,
    });
    return createRotationScheduler({
      engine,
      store: ctx.rotation.store,
      leader,
      clock: () => nowMs,
      jitterMs: 1000,
      sleep: async () => {}, // the jitter is drawn, not waited
      concurrency: 2,
      onEvent: (e) => events.push(e),
    });
  };

  const secret = async (key: string, policy: Record<string, unknown>) => {
    await s.request('POST', `secret/data/${key}`, {
      body: { data: { value: randomBytes(8).toString('hex') } },
    });
    const r = await s.request('POST', `sys/rotation/secret/${key}`, { body: policy });
    expect(r.status).toBe(204);
  };
  const runs = async (key: string) =>
    (await s.request('GET', `sys/rotation-history/secret/${key}`)).body.data.runs as {
      by: string;
      state: string;
    }[];

  it('rotates automatic policies when due, once after a long stop, never manual ones; announces notify_before', async () => {
    await secret('sched/auto', {
      rotator: 'random',
      schedule: '4h',
      notify_before: '1h',
      grace_period: '1h',
    });
    await secret('sched/manual', { rotator: 'random', schedule: '4h', automatic: false });
    const events: SchedulerEvent[] = [];
    const one = scheduler(singleNodeLeader(), events);
    expect((await one.tick()).rotated).toEqual([]);
    nowMs += 3.5 * HOUR;
    await one.tick();
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'notify', secret: `${MOUNT}/sched/auto` }),
    );
    expect(await runs('sched/auto')).toEqual([]);
    // Stopped for ten days: the missed schedules run once, not sixty times.
    nowMs += 10 * 24 * HOUR;
    const report = await one.tick();
    expect(report.rotated.map((r) => [r.secret, r.result])).toEqual([
      ['secret/sched/auto', 'succeeded'],
    ]);
    expect(report.retired).toEqual([]);
    expect(await one.tick()).toMatchObject({ rotated: [] });
    expect(await runs('sched/auto')).toEqual([
      expect.objectContaining({ by: 'scheduler', state: 'succeeded' }),
    ]);
    expect(await runs('sched/manual')).toEqual([]);
    // The grace period ends: the next tick retires the previous value.
    nowMs += 2 * HOUR;
    expect((await one.tick()).retired).toContain('secret/sched/auto');
    expect((await s.request('GET', 'secret/data/sched/auto?stage=previous')).status).toBe(404);
  });

  it('keeps to the concurrency limit', async () => {
    for (let i = 0; i < 6; i++)
      await secret(`sched/many/${i}`, { rotator: 'slow', schedule: '4h' });
    nowMs += 5 * HOUR;
    maxInSet = 0;
    const report = await scheduler().tick();
    expect(report.rotated.filter((r) => r.secret.startsWith('secret/sched/many/'))).toHaveLength(6);
    expect(maxInSet).toBe(2);
  });

  it('a cron schedule with a window rotates inside the window only', async () => {
    // Due every day at 03:00 UTC, within one hour.
    nowMs = Date.parse('2030-03-01T00:00:00.000Z');
    await secret('sched/cron', { rotator: 'random', schedule: '0 3 * * *', window: '1h' });
    nowMs = Date.parse('2030-03-01T05:00:00.000Z'); // the window of the 1st has passed
    expect((await scheduler().tick()).rotated.map((r) => r.secret)).not.toContain(
      'secret/sched/cron',
    );
    nowMs = Date.parse('2030-03-02T03:10:00.000Z');
    expect((await scheduler().tick()).rotated.map((r) => r.secret)).not.toContain(
      'secret/sched/cron',
    );
  });

  it('three schedulers ticking at once on one storage rotate each due secret exactly once', async () => {
    for (let i = 0; i < 5; i++)
      await secret(`sched/race/${i}`, { rotator: 'random', schedule: '4h' });
    nowMs += 5 * HOUR;
    const leader = () =>
      kind === 'postgres'
        ? postgresLeaderLock(s.server.context.storage.db as never)
        : singleNodeLeader();
    const reports = await Promise.all(
      [scheduler(leader()), scheduler(leader()), scheduler(leader())].map((x) => x.tick()),
    );
    if (kind === 'postgres')
      expect(reports.filter((r) => r.leader).length).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) expect(await runs(`sched/race/${i}`), `race/${i}`).toHaveLength(1);
    // Even without a leader lock (every node thinks it leads), the start guard rotates once.
    nowMs += 5 * HOUR;
    await Promise.all([scheduler(), scheduler(), scheduler()].map((x) => x.tick()));
    for (let i = 0; i < 5; i++) expect(await runs(`sched/race/${i}`), `race/${i}`).toHaveLength(2);
  });

  it('removes ended approval requests once their retention passed, on the leader tick', async () => {
    const requests = createApprovalStore(s.server.context.barrier, () => nowMs);
    const path = 'secret/sched/approvals';
    const open = (ttlSeconds: number) =>
      requests.open({
        secret: path,
        requester: 'token-alice',
        requesterAccessor: 'accessor-alice',
        approvalsRequired: 1,
        ttlSeconds,
      });
    const approved = await open(3600);
    await requests.approve(approved.id, { identity: 'token-bob', accessor: 'accessor-bob' });
    await requests.recordResult(approved.id, 'rotation-id', 'succeeded');
    const expired = await open(60);
    const waiting = await open(30 * 86_400);
    const ctx = s.server.context;
    const tick = () =>
      createRotationScheduler({
        engine: ctx.rotation.engine,
        store: ctx.rotation.store,
        leader: singleNodeLeader(),
        clock: () => nowMs,
        jitterMs: 0,
        approvals: { store: requests, retentionMs: 7 * 86_400_000 },
      }).tick();
    nowMs += 6 * 86_400_000; // within the retention of both ended ones
    expect((await tick()).purged).toEqual([]);
    nowMs += 2 * 86_400_000;
    expect(new Set((await tick()).purged)).toEqual(new Set([approved.id, expired.id]));
    expect(await requests.read(approved.id)).toBeUndefined();
    expect(await requests.read(expired.id)).toBeUndefined();
    // Still waiting for its approval: kept, and still approvable.
    expect(await requests.read(waiting.id)).toMatchObject({ state: 'pending' });
    // A follower removes nothing.
    const follower = createRotationScheduler({
      engine: ctx.rotation.engine,
      store: ctx.rotation.store,
      leader: { run: async () => false },
      clock: () => nowMs,
      approvals: { store: requests, retentionMs: 0 },
    });
    expect((await follower.tick()).purged).toEqual([]);
    expect(await requests.read(waiting.id)).toBeDefined();
  });
});
