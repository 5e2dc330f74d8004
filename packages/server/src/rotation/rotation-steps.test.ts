import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import type { KeyMetadata } from '../kv/kv-metadata.js';
import { createEngineParts } from './rotation-engine-parts.js';
import type { RotationPolicy } from './rotation-policy.js';
import { createRotationSteps, isPendingOnly } from './rotation-steps.js';
import type { RotationRun } from './rotation-store.js';
import { kvSecrets } from './rotation-target.js';
import type { PendingContext, Rotator } from './rotator.js';

const value = () => randomBytes(12).toString('hex');

describe('isPendingOnly', () => {
  const meta = (labels: Record<string, number>) => ({ labels }) as unknown as KeyMetadata;
  it.each([
    ['pending alone', { AWSPENDING: 3, AWSCURRENT: 2, AWSPREVIOUS: 1 }, true],
    ['pending on another version', { AWSPENDING: 4, AWSCURRENT: 2 }, false],
    ['no pending label', { AWSCURRENT: 2, AWSPREVIOUS: 1 }, false],
    ['pending and current', { AWSPENDING: 3, AWSCURRENT: 3 }, false],
    ['pending and previous', { AWSPENDING: 3, AWSCURRENT: 4, AWSPREVIOUS: 3 }, false],
  ])('version 3 with %s: %s', (_case, labels, expected) => {
    expect(isPendingOnly(meta(labels), 3)).toBe(expected);
  });
});

/** The steps that touch the secret, on a SQLite server's KV mount (rotation-steps.ts). */
describe('the rotation steps on the secret', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { rotationSchedulerIntervalMs: 0 });
  });
  afterAll(async () => {
    await s.close();
  });

  const rolledBack: string[] = [];
  const rotator: Rotator = {
    name: 'steps-test',
    checkSettings: () => {},
    create: async () => ({ value: value() }),
    set: async () => {},
    test: async () => {},
    rollback: async (c) => {
      rolledBack.push(c.rotationId);
    },
  };

  /** A run of `key` from its current version, as the engine starts one. */
  const runOf = async (key: string): Promise<RotationRun> => {
    const meta = await s.server.context.kv.readMetadata(key);
    return {
      id: randomUUID(),
      secret: `secret/${key}`,
      rotator: rotator.name,
      by: 'test',
      started_time: new Date().toISOString(),
      step: 'create',
      state: 'running',
      from_version: meta?.current_version ?? 0,
      steps: [],
    };
  };

  /** The steps and what they are given, each test its own (built per test, as Stryker needs). */
  const setUp = async (key: string) => {
    const ctx = s.server.context;
    const deps = {
      store: ctx.rotation.store,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock: Date.now,
    };
    const parts = createEngineParts(deps, randomUUID());
    const steps = createRotationSteps({ store: ctx.rotation.store, clock: Date.now });
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: value() } } });
    const run = await runOf(key);
    const policy = { settings: {}, grace_period: 3600 } as unknown as RotationPolicy;
    const current = (await parts.dataOf(ctx.kv, key, run.from_version)) ?? {};
    const context = await parts.contextOf(run, policy, current);
    const pendingContext = async (): Promise<PendingContext> => ({
      ...context,
      pending: (await parts.dataOf(ctx.kv, key, run.pending_version)) ?? {},
    });
    return { kv: ctx.kv, steps, run, policy, context, pendingContext };
  };

  it('writes the pending version when the key keeps exactly three versions', async () => {
    const key = 'steps/three';
    const { kv, steps, run, context } = await setUp(key);
    await s.request('POST', `secret/metadata/${key}`, { body: { max_versions: 3 } });
    const version = await steps.create(kv, key, run, rotator, context);
    expect(version).toBe(2);
    const meta = await kv.readMetadata(key);
    expect(meta?.labels).toMatchObject({ AWSPENDING: 2, AWSCURRENT: 1 });
  });

  it('refuses a key that keeps two versions, naming the setting', async () => {
    const key = 'steps/two';
    const { kv, steps, run, context } = await setUp(key);
    await s.request('POST', `secret/metadata/${key}`, { body: { max_versions: 2 } });
    await expect(steps.create(kv, key, run, rotator, context)).rejects.toThrow(
      'max_versions is 2: rotation keeps current, pending and previous, so the key (or mount) must keep at least 3 versions',
    );
    expect((await kv.readMetadata(key))?.current_version).toBe(1);
  });

  it('rolls back a pending version written before a crash kept the run from recording it', async () => {
    const key = 'steps/unrecorded';
    const { kv, steps, run, context, pendingContext } = await setUp(key);
    const written = await steps.create(kv, key, run, rotator, context);
    // The crash: the run as saved before create, without the version it wrote.
    const saved: RotationRun = { ...run, step: 'rollback' };
    expect(saved.pending_version).toBeUndefined();
    await steps.rollback(kv, key, saved, rotator, pendingContext);
    expect(saved.pending_version).toBe(written);
    expect(rolledBack).toContain(run.id);
    const meta = await kv.readMetadata(key);
    expect(meta?.labels?.AWSPENDING).toBeUndefined();
    expect(meta?.versions[String(written)]?.destroyed).toBe(true);
    expect(meta?.versions['1']?.destroyed).toBe(false);
  });

  it('finishes again after a crash that followed the label move: nothing moves twice', async () => {
    const key = 'steps/finish-twice';
    const { kv, steps, run, policy, context, pendingContext } = await setUp(key);
    const pending = await steps.create(kv, key, run, rotator, context);
    run.pending_version = pending; // as the drive records it
    await steps.finish(kv, key, run, policy, rotator, await pendingContext());
    const moved = (await kv.readMetadata(key))?.labels;
    expect(moved).toEqual({ AWSCURRENT: pending, AWSPREVIOUS: 1 });
    // The run as saved before finish, run again by the next holder.
    const again: RotationRun = { ...run, step: 'finish' };
    await steps.finish(kv, key, again, policy, rotator, await pendingContext());
    expect((await kv.readMetadata(key))?.labels).toEqual(moved);
    expect(again.new_fingerprint).toBe(run.new_fingerprint);
  });

  it('records no old fingerprint for the first value of a secret that had none', async () => {
    const key = 'steps/first';
    const { kv, steps, run, policy, context, pendingContext } = await setUp(key);
    await s.request('DELETE', `secret/metadata/${key}`);
    const first: RotationRun = { ...run, from_version: 0 };
    const empty = { ...context, current: {} };
    const pending = await steps.create(kv, key, first, rotator, empty);
    first.pending_version = pending;
    run.pending_version = pending; // what pendingContext reads
    await steps.finish(kv, key, first, policy, rotator, {
      ...(await pendingContext()),
      current: {},
    });
    expect((await kv.readMetadata(key))?.labels?.AWSCURRENT).toBe(pending);
    expect(first).not.toHaveProperty('old_fingerprint');
    expect(first.new_fingerprint).toMatch(/^hmac-sha256:/);
  });

  it('does nothing when the run wrote no version before it stopped', async () => {
    const key = 'steps/unwritten';
    const { kv, steps, run, pendingContext } = await setUp(key);
    const saved: RotationRun = { ...run, step: 'rollback' };
    await steps.rollback(kv, key, saved, rotator, pendingContext);
    expect(saved.pending_version).toBeUndefined();
    expect(rolledBack).not.toContain(run.id);
    const meta = await kv.readMetadata(key);
    expect(meta?.current_version).toBe(1);
    expect(meta?.versions['1']?.destroyed).toBe(false);
  });

  it('refuses to roll back a pending version that was made current, and destroys nothing', async () => {
    const key = 'steps/current';
    const { kv, steps, run, context, pendingContext } = await setUp(key);
    run.pending_version = await steps.create(kv, key, run, rotator, context);
    await steps.finish(
      kv,
      key,
      run,
      { settings: {}, grace_period: 3600 } as never,
      rotator,
      await pendingContext(),
    );
    await expect(steps.rollback(kv, key, run, rotator, pendingContext)).rejects.toThrow(
      'the pending value is current already',
    );
    expect(rolledBack).not.toContain(run.id);
    const meta = await kv.readMetadata(key);
    expect(meta?.labels).toEqual({ AWSCURRENT: 2, AWSPREVIOUS: 1 });
    expect(meta?.versions['2']?.destroyed).toBe(false);
  });
});
