import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { isServerError } from '../errors.js';
import { createRotationEngine, type RotationEngine } from './rotation-engine.js';
import { policyOf } from './rotation-policy.js';
import { kvSecrets } from './rotation-target.js';

/**
 * Several rotations of one secret at once, each engine on its own pooled connection(s): the
 * run record is read and replaced at its revision (no `FOR SHARE` row lock, which two
 * transactions holding and then updating deadlock on PostgreSQL, `40P01`). Exactly one of
 * each round starts; the others are refused with `ERR_ROTATION_IN_PROGRESS`, never a deadlock.
 */
describe.each(await storageKinds())('concurrent rotations of one secret on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  /** Another engine on the server's storage, as another node (or request) would drive. */
  const engine = (): RotationEngine => {
    const ctx = s.server.context;
    return createRotationEngine({
      store: ctx.rotation.store,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock: ctx.clock,
    });
  };

  it('starts exactly one of eight rotations at a time, round after round, without a deadlock', async () => {
    const key = 'race/one';
    await s.request('POST', `secret/data/${key}`, {
      body: { data: { value: randomBytes(8).toString('hex') } },
    });
    await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'random', schedule: '90d', grace_period: '0s' },
    });
    const engines = Array.from({ length: 8 }, engine);
    let succeeded = 0;
    // Round 1 creates the run record; later rounds replace an ended one (the update path).
    for (let round = 0; round < 5; round++) {
      const outcomes = await Promise.allSettled(
        engines.map((e) => e.rotate({ mount: 'secret', key }, { by: `round-${round}` })),
      );
      const started = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o) => o.status === 'rejected');
      for (const o of refused)
        expect(
          isServerError((o as PromiseRejectedResult).reason, 'ERR_ROTATION_IN_PROGRESS'),
          String((o as PromiseRejectedResult).reason),
        ).toBe(true);
      expect(started.length).toBeGreaterThanOrEqual(1);
      for (const o of started)
        expect((o as PromiseFulfilledResult<{ result: string }>).value.result).toBe('succeeded');
      succeeded += started.length;
    }
    // Each started rotation made one new current version, in turn: the chain is unbroken.
    const meta = await s.server.context.kv.readMetadata(key);
    expect(meta?.current_version).toBe(1 + succeeded);
    expect(meta?.labels?.AWSCURRENT).toBe(1 + succeeded);
    const history = await s.request('GET', `sys/rotation-history/secret/${key}`);
    expect(history.body.data.runs).toHaveLength(succeeded);
    expect(new Set(history.body.data.runs.map((r: { state: string }) => r.state))).toEqual(
      new Set(['succeeded']),
    );
  });

  it('scheduler-style starts (`after` the last run) from eight engines start one rotation', async () => {
    const key = 'race/after';
    await s.request('POST', `secret/data/${key}`, {
      body: { data: { value: randomBytes(8).toString('hex') } },
    });
    await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'random', schedule: '90d', grace_period: '0s' },
    });
    const first = await engine().rotate({ mount: 'secret', key }, { by: 'test' });
    const results = await Promise.all(
      Array.from({ length: 8 }, engine).map((e) =>
        e.rotate({ mount: 'secret', key }, { by: 'scheduler', after: first.id }),
      ),
    );
    expect(results.filter((r) => r.result === 'succeeded')).toHaveLength(1);
    expect(results.filter((r) => r.result === 'skipped')).toHaveLength(7);
  });

  it('a policy read, then rewritten, loses no write that came between: the change runs again on it', async () => {
    const store = s.server.context.rotation.store;
    const secret = ['secret', 'race', 'policy'].join('/');
    const base = policyOf({ rotator: 'random', schedule: '90d' }, new Date(0).toISOString());
    await store.writePolicy(secret, base);
    const seen: number[] = [];
    const after = await store.updatePolicy(secret, async (before) => {
      seen.push(before?.notify_before ?? -1);
      // Another writer lands between this read and its write, once.
      if (seen.length === 1) await store.writePolicy(secret, { ...base, notify_before: 3600 });
      return before === undefined ? undefined : { ...before, automatic: false };
    });
    expect(seen).toEqual([0, 3600]);
    expect(after).toMatchObject({ automatic: false, notify_before: 3600 });
    expect(await store.readPolicy(secret)).toMatchObject({ automatic: false, notify_before: 3600 });
    // A policy deleted meanwhile is not brought back by a change of the one read.
    const gone = await store.updatePolicy(secret, async (before) => {
      if (before !== undefined) await store.deletePolicy(secret);
      return before === undefined ? undefined : { ...before, automatic: true };
    });
    expect(gone).toBeUndefined();
    expect(await store.readPolicy(secret)).toBeUndefined();
  });
});
