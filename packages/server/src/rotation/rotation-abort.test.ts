import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { heldSteps } from '../../test/held-steps.js';
import { isServerError } from '../errors.js';
import { builtInRotators } from './built-in-rotators.js';
import { createRotationEngine, type RotationEngine } from './rotation-engine.js';
import type { RotationStore } from './rotation-store.js';
import { kvSecrets } from './rotation-target.js';
import type { Rotator } from './rotator.js';

const value = () => randomBytes(12).toString('hex');
const LEASE_MS = 300;

/**
 * A rotator whose first set of each secret waits for its signal and ends with it (a step
 * that stops at its next safe point); later sets return at once. Counts each step per
 * rotation id, and which rotations saw their signal fire.
 */
function signalRotator() {
  const held = heldSteps();
  const aborted = new Set<string>();
  const calls: string[] = [];
  const rotator: Rotator = {
    name: 'wait-signal',
    checkSettings: () => {},
    create: async () => ({ value: value() }),
    async set(context) {
      calls.push(`set:${context.rotationId}`);
      const secret = `${context.secret.mount}/${context.secret.key}`;
      await held.holdFirst(secret, context.signal, () => aborted.add(context.rotationId));
    },
    test: async (context) => {
      calls.push(`test:${context.rotationId}`);
    },
    finish: async (context) => {
      calls.push(`finish:${context.rotationId}`);
    },
  };
  return { rotator, aborted, calls, enteredOf: held.enteredOf };
}

describe.each(await storageKinds())('the steps signal on %s', (kind) => {
  let s: TestServer;
  const slow = signalRotator();
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(slow.rotator);
    s = await startTestServer(kind, { rotators, rotationSchedulerIntervalMs: 0 });
  });
  afterAll(async () => {
    await s.close();
  });

  const store = () => s.server.context.rotation.store;
  const node = (nodeStore: RotationStore = store(), clock = Date.now): RotationEngine => {
    const ctx = s.server.context;
    return createRotationEngine({
      store: nodeStore,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock,
      runLeaseMs: LEASE_MS,
    });
  };
  /**
   * Node A's store: counts what A saves of a run after its signal fired (must stay empty),
   * and its renewals and releases fail once `cut()` (A is cut off from storage).
   */
  const nodeA = () => {
    const base = store();
    const late: string[] = [];
    let dead = false;
    const refuse = () => {
      if (dead) throw new Error('node A is unreachable');
    };
    const wrapped: RotationStore = {
      ...base,
      renewRun: async (...args) => {
        refuse();
        return base.renewRun(...args);
      },
      releaseRun: async (...args) => {
        refuse();
        return base.releaseRun(...args);
      },
      saveRun: async (run) => {
        if (slow.aborted.has(run.id)) late.push(`save:${run.step}`);
        return base.saveRun(run);
      },
      appendHistory: async (run) => {
        if (slow.aborted.has(run.id)) late.push('history');
        return base.appendHistory(run);
      },
    };
    return { engine: node(wrapped), late, cut: () => (dead = true) };
  };
  const prepare = async (key: string) => {
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: value() } } });
    const r = await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'wait-signal', schedule: '90d', grace_period: '1h' },
    });
    expect(r.status).toBe(204);
  };
  const settle = <T>(p: Promise<T>) =>
    p.then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err }),
    );
  const stepsOf = (id: string | undefined, step: string) =>
    slow.calls.filter((c) => c === `${step}:${id}`).length;

  it('fires when renewals fail until the lease ran out: the step ends, A saves nothing, the next holder finishes once', async () => {
    const key = 'abort/renewals';
    await prepare(key);
    const a = nodeA();
    const rotation = settle(a.engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await slow.enteredOf(`secret/${key}`);
    const started = await store().readRun(`secret/${key}`);
    a.cut();
    await vi.waitFor(() => expect(slow.aborted.has(started?.id ?? '')).toBe(true), {
      timeout: 10_000,
    });
    const ended = await rotation;
    expect(ended.ok).toBe(false);
    expect(!ended.ok && isServerError(ended.err, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect(a.late).toEqual([]);
    // Left as A last saved it: running at set.
    expect(await store().readRun(`secret/${key}`)).toMatchObject({ state: 'running', step: 'set' });
    const b = node();
    const resumed = await vi.waitFor(
      async () => {
        const r = await b.resume(`secret/${key}`);
        expect(r).toBeDefined();
        return r;
      },
      { timeout: 10_000 },
    );
    expect(resumed).toMatchObject({ id: started?.id, result: 'succeeded' });
    expect(stepsOf(started?.id, 'set')).toBe(2); // A's, stopped, and B's
    expect(stepsOf(started?.id, 'finish')).toBe(1);
    const history = await store().history(`secret/${key}`);
    expect(history.filter((h) => h.id === started?.id)).toHaveLength(1);
    expect(history.at(-1)?.steps.map((x) => [x.step, x.result])).toEqual([
      ['create', 'ok'],
      ['set', 'ok'],
      ['test', 'ok'],
      ['finish', 'ok'],
    ]);
    expect(a.late).toEqual([]);
  });

  it('fires when another node holds the run: the step ends, A saves nothing, the holder finishes once', async () => {
    const key = 'abort/taken';
    await prepare(key);
    const a = nodeA();
    const rotation = settle(a.engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await slow.enteredOf(`secret/${key}`);
    const started = await store().readRun(`secret/${key}`);
    // B's clock runs ahead: A's lease looks ended to it, and B takes the run over.
    const b = node(store(), () => Date.now() + 100 * LEASE_MS);
    const resumed = await b.resume(`secret/${key}`);
    expect(resumed).toMatchObject({ id: started?.id, result: 'succeeded' });
    await vi.waitFor(() => expect(slow.aborted.has(started?.id ?? '')).toBe(true), {
      timeout: 10_000,
    });
    const ended = await rotation;
    expect(ended.ok).toBe(false);
    expect(!ended.ok && isServerError(ended.err, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect(a.late).toEqual([]);
    expect(stepsOf(started?.id, 'finish')).toBe(1);
    const run = await store().readRun(`secret/${key}`);
    expect(run?.state).toBe('succeeded');
    expect(run?.steps.map((x) => x.step)).toEqual(['create', 'set', 'test', 'finish']);
    const history = await store().history(`secret/${key}`);
    expect(history.filter((h) => h.id === started?.id)).toHaveLength(1);
  });

  it('fires when the node stops: the run is released for another node at once', async () => {
    const key = 'abort/stopping';
    await prepare(key);
    const a = nodeA();
    const rotation = settle(a.engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await slow.enteredOf(`secret/${key}`);
    const started = await store().readRun(`secret/${key}`);
    await a.engine.stopBackground(); // seal, shutdown
    expect(slow.aborted.has(started?.id ?? '')).toBe(true);
    const ended = await rotation;
    expect(!ended.ok && isServerError(ended.err, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect(a.late).toEqual([]);
    expect(await store().readRun(`secret/${key}`)).toMatchObject({
      state: 'running',
      step: 'set',
      lease_until_ms: 0,
    });
    const resumed = await node().resume(`secret/${key}`);
    expect(resumed).toMatchObject({ id: started?.id, result: 'succeeded' });
    expect(stepsOf(started?.id, 'finish')).toBe(1);
  });
});
