import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { builtInRotators } from './built-in-rotators.js';
import { createRotationEngine, type RotationEngine } from './rotation-engine.js';
import { kvSecrets } from './rotation-target.js';
import type { BackgroundContext, Rotator } from './rotator.js';

const value = () => randomBytes(12).toString('hex');

/**
 * A rotator with background work that waits for the test to let it go (or fail it), and stops
 * when its signal aborts: a rewrap the test holds in the middle.
 */
function gatedRotator() {
  let release: (outcome: 'ok' | 'fail') => void = () => {};
  let gate = new Promise<'ok' | 'fail'>((r) => {
    release = r;
  });
  const calls: BackgroundContext[] = [];
  const rotator: Rotator = {
    name: 'gated',
    checkSettings: () => {},
    create: async () => ({ value: value() }),
    set: async () => {},
    test: async () => {},
    async background(context) {
      calls.push(context);
      context.signal.throwIfAborted();
      const outcome = await Promise.race([
        gate,
        new Promise<never>((_, reject) =>
          context.signal.addEventListener('abort', () => reject(context.signal.reason)),
        ),
      ]);
      if (outcome === 'fail')
        throw new Error(`the database is unreachable (value ${String(context.pending.value)})`);
    },
  };
  return {
    rotator,
    calls,
    /** Lets the waiting (and every later) background call end with `outcome`. */
    open(outcome: 'ok' | 'fail') {
      release(outcome);
    },
    /** Later calls wait again. */
    close() {
      gate = new Promise((r) => {
        release = r;
      });
    },
  };
}

describe.each(await storageKinds())('background work after a rotation on %s', (kind) => {
  let s: TestServer;
  let nowMs = Date.parse('2031-01-01T00:00:00.000Z');
  const gated = gatedRotator();
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(gated.rotator);
    s = await startTestServer(kind, {
      rotators,
      clock: () => nowMs,
      rotationSchedulerIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await s.close();
  });

  /** An engine on the server's storage, as another node has (its own claims). */
  const node = (): RotationEngine => {
    const ctx = s.server.context;
    return createRotationEngine({
      store: ctx.rotation.store,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock: () => nowMs,
      backgroundLeaseMs: 30_000,
    });
  };
  const prepare = async (key: string, grace = '0s') => {
    const old = value();
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: old } } });
    const r = await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'gated', schedule: '90d', grace_period: grace },
    });
    expect(r.status).toBe(204);
    return old;
  };
  const lastRun = async (key: string) =>
    (await s.request('GET', `sys/rotation-history/secret/${key}`)).body.data.runs.at(-1);
  const statusOf = async (key: string) =>
    (await s.request('GET', 'sys/rotation-status')).body.data.secrets.find(
      (x: { secret: string }) => x.secret === `secret/${key}`,
    );

  it('answers once the new value is current; the old one is not retired, nor the secret rotated again, before the work succeeded', async () => {
    const key = 'bg/retire';
    const old = await prepare(key);
    const a = node();
    gated.close();
    const result = await a.rotate({ mount: 'secret', key }, { by: 'test' });
    expect(result.result).toBe('succeeded');
    expect(result.background).toBe('running');
    expect((await s.request('GET', `secret/data/${key}`)).body.data.data.value).not.toBe(old);
    // Another node finds it held (its lease is live) and leaves it.
    expect(await node().startBackground()).toEqual([]);
    // Grace 0, and far past it: still not retired while the work runs.
    nowMs += 3600_000;
    expect(await a.retireDue(nowMs)).toEqual([]);
    expect(await node().retireDue(nowMs)).toEqual([]);
    const previous = await s.request('GET', `secret/data/${key}?stage=previous`);
    expect(previous.status).toBe(200);
    expect(previous.body.data.data.value).toBe(old);
    const again = await s.request('POST', `sys/rotate-secret/secret/${key}`, {
      body: { force: true },
    });
    expect(again.status).toBe(409);
    expect(await statusOf(key)).toMatchObject({ background: 'running', running: false });
    expect((await lastRun(key)).background).toMatchObject({ state: 'running', attempts: 1 });

    gated.open('ok');
    await a.backgroundIdle();
    // Done: the grace period that ended meanwhile ends now.
    expect((await s.request('GET', `secret/data/${key}?stage=previous`)).status).toBe(404);
    const run = await lastRun(key);
    expect(run).toMatchObject({ retired: true, background: { state: 'done', attempts: 1 } });
    expect(run.steps.map((x: { step: string }) => x.step)).toEqual([
      'create',
      'set',
      'test',
      'finish',
      'background',
    ]);
    expect((await statusOf(key)).background).toBeUndefined();
    // The context named the rotation and the value made current.
    expect(gated.calls.at(-1)?.rotationId).toBe(result.id);
  });

  it('a failed attempt is recorded scrubbed, retried by a leader once due, and only then retires', async () => {
    const key = 'bg/retry';
    await prepare(key, '1h');
    const a = node();
    gated.close();
    const result = await a.rotate({ mount: 'secret', key }, { by: 'test' });
    gated.open('fail');
    await a.backgroundIdle();
    const failed = await lastRun(key);
    expect(failed.background).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed.background.error).toMatch(/unreachable/);
    const current = (await s.request('GET', `secret/data/${key}`)).body.data.data.value;
    expect(JSON.stringify(failed)).not.toContain(current);
    expect(failed.steps.at(-1)).toMatchObject({ step: 'background', result: 'failed' });
    // Past the grace period: not retired while the work failed.
    nowMs += 2 * 3600_000;
    expect(await a.retireDue(nowMs)).toEqual([]);
    // Not due for a retry yet (a minute after the failure) … then taken up by the leader.
    nowMs -= 2 * 3600_000;
    expect(await node().startBackground()).toEqual([]);
    nowMs += 2 * 3600_000;
    gated.close();
    const leader = node();
    expect(await leader.startBackground()).toEqual([`secret/${key}`]);
    gated.open('ok');
    await leader.backgroundIdle();
    const run = await lastRun(key);
    expect(run).toMatchObject({ id: result.id, retired: true });
    expect(run.background).toMatchObject({ state: 'done', attempts: 2 });
    expect(run.steps.slice(-2).map((x: { result: string }) => x.result)).toEqual(['failed', 'ok']);
  });

  it('a job held by a node that died is taken over once its lease ends, by exactly one of three nodes', async () => {
    const key = 'bg/takeover';
    await prepare(key);
    const a = node();
    gated.close();
    await a.rotate({ mount: 'secret', key }, { by: 'test' });
    // The node stops (seal, shutdown): the work aborts and is released at once.
    await a.stopBackground();
    const store = s.server.context.rotation.store;
    expect(await store.readJob(`secret/${key}`)).toMatchObject({ state: 'pending' });
    // A node takes it and dies (it never renews its claim).
    expect(await store.claimJob(`secret/${key}`, 'dead-node', nowMs, 30_000)).toBeDefined();
    const nodes = [node(), node(), node()];
    expect(
      (await Promise.all(nodes.map((n) => n.startBackground())))
        .flat()
        .filter((x) => x === `secret/${key}`),
    ).toEqual([]);
    nowMs += 31_000;
    const started = await Promise.all(nodes.map((n) => n.startBackground()));
    expect(started.flat().filter((x) => x === `secret/${key}`)).toHaveLength(1);
    gated.open('ok');
    await Promise.all(nodes.map((n) => n.backgroundIdle()));
    expect(await store.readJob(`secret/${key}`)).toMatchObject({ state: 'done', attempts: 3 });
    expect((await s.request('GET', `secret/data/${key}?stage=previous`)).status).toBe(404);
    // The dead node's late end is refused: the job is no longer its own.
    expect(
      await store.endJob(`secret/${key}`, 'dead-node', nowMs, {
        state: 'failed',
        error: 'late',
        retryAfterMs: 0,
      }),
    ).toBe(false);
    // Rotating again is allowed now.
    const again = await s.request('POST', `sys/rotate-secret/secret/${key}`, {
      body: { force: true },
    });
    expect(again.body.data.result).toBe('succeeded');
    await s.server.context.rotation.engine.backgroundIdle();
  });

  it('a rotation that rolls back at finish leaves no background job behind', async () => {
    const key = 'bg/rollback';
    await prepare(key);
    const ctx = s.server.context;
    // A write to the secret while the rotation is between test and finish: finish refuses.
    const writing = createRotationEngine({
      store: ctx.rotation.store,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock: () => nowMs,
      beforeStep: async (step) => {
        if (step === 'finish')
          await s.request('POST', `secret/data/${key}`, { body: { data: { value: value() } } });
      },
    });
    const result = await writing.rotate({ mount: 'secret', key }, { by: 'test' });
    expect(result.result).toBe('rolled_back');
    expect(await ctx.rotation.store.readJob(`secret/${key}`)).toBeUndefined();
    expect(await statusOf(key)).not.toHaveProperty('background');
  });
});
