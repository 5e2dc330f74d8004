import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import {
  aborted,
  engineOn,
  type Script,
  scriptedRotator,
  settle,
  signalled,
} from '../../test/scripted-rotator.js';
import { isServerError } from '../errors.js';
import { builtInRotators } from './built-in-rotators.js';
import type { RotationEngine } from './rotation-engine.js';
import type { RotationStep, RotationStore } from './rotation-store.js';

/**
 * How one drive renews its lease, ends and stops (rotation-drive.ts). Each test builds its own
 * engine (its own driver), on one SQLite server: the drive's logic does not depend on the
 * storage, which rotation-lease.test.ts and the others cover on both.
 */

const value = () => randomBytes(12).toString('hex');
const LEASE_MS = 60;
/** Renewals run every 20 ms; a loaded machine may take longer to run a few. */
const WAIT = { timeout: 10_000 };

const { rotator: scripted, scripts } = scriptedRotator('scripted');

describe('driving a rotation run', () => {
  let s: TestServer;
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(scripted);
    s = await startTestServer('sqlite', { rotators, rotationSchedulerIntervalMs: 0 });
  });
  afterAll(async () => {
    await s.close();
  });

  /** An engine of its own (as another node has) on the server's storage, short leases. */
  const engineWith = (
    options: {
      store?: RotationStore;
      clock?: () => number;
      beforeStep?: (step: RotationStep) => Promise<void>;
    } = {},
  ): RotationEngine => engineOn(s.server, { runLeaseMs: LEASE_MS, ...options });

  const prepare = async (key: string, script: Script, gracePeriod = '1h') => {
    scripts.set(key, script);
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: value() } } });
    const r = await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'scripted', schedule: '90d', grace_period: gracePeriod },
    });
    expect(r.status).toBe(204);
  };

  /** The store, its lease renewals answered by `renew` (the real store's answer passed in). */
  const renewingBy = (
    renew: (real: () => Promise<boolean>, untilMs: number) => Promise<boolean>,
  ): RotationStore => {
    const store = s.server.context.rotation.store;
    return { ...store, renewRun: (...args) => renew(() => store.renewRun(...args), args[3]) };
  };

  it('stops when a renewal finds the run no longer its own, and says so', async () => {
    const key = 'drive/taken';
    const { promise: inSet, resolve: entered } = signalled();
    await prepare(key, {
      set: async (c) => {
        entered();
        await aborted(c.signal);
      },
    });
    let taken = false;
    const engine = engineWith({ store: renewingBy(async (real) => (taken ? false : real())) });
    const outcome = settle(engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await inSet;
    taken = true;
    const ended = await outcome;
    expect(ended.ok).toBe(false);
    const error = (ended as { error: unknown }).error;
    expect(isServerError(error, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect((error as Error).message).toBe(
      `the rotation of secret/${key} stopped here: another node holds it, or it was moved or removed`,
    );
  });

  /**
   * With renewals failing: the step keeps running one millisecond before `end` (over three
   * failed renewals) and its signal fires at `end`; `clock` is what the drive's clock reads.
   */
  const stopsAtLeaseEnd = async (
    end: number,
    clock: { now: number },
    failures: () => number,
    signal: () => AbortSignal | undefined,
  ) => {
    clock.now = end - 1;
    const before = failures();
    await vi.waitFor(() => expect(failures()).toBeGreaterThanOrEqual(before + 3), WAIT);
    expect(signal()?.aborted).toBe(false);
    clock.now = end;
    await vi.waitFor(() => expect(signal()?.aborted).toBe(true), WAIT);
  };

  it('keeps driving while renewals fail within the lease its last renewal gave, and stops at its end', async () => {
    const key = 'drive/partition';
    const { promise: inSet, resolve: entered } = signalled();
    let signal: AbortSignal | undefined;
    await prepare(key, {
      set: async (c) => {
        signal = c.signal;
        entered();
        await aborted(c.signal);
      },
    });
    const start = Date.now();
    const clock = { now: start };
    let failing = false;
    const renewed: number[] = [];
    let failures = 0;
    const engine = engineWith({
      clock: () => clock.now,
      store: renewingBy(async (real, untilMs) => {
        if (failing) {
          failures++;
          throw new Error('storage unreachable');
        }
        const held = await real();
        if (held) renewed.push(untilMs);
        return held;
      }),
    });
    const outcome = settle(engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await inSet;
    // Saved with a lease until start + LEASE_MS; renewals later in time extend it.
    clock.now = start + 1_000;
    await vi.waitFor(() => expect(renewed).toContain(start + 1_000 + LEASE_MS), WAIT);
    // Failing from here on, before the clock moves: no renewal extends the lease any more.
    failing = true;
    // Past the first lease: the renewed one holds until its very end.
    await stopsAtLeaseEnd(
      start + 1_000 + LEASE_MS,
      clock,
      () => failures,
      () => signal,
    );
    const ended = await outcome;
    expect(ended.ok).toBe(false);
    const error = (ended as { error: unknown }).error;
    expect(isServerError(error, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect((error as Error).message).toBe(
      `the rotation of secret/${key} stopped here: its lease ran out while renewals failed`,
    );
  });

  it('counts the lease its own saves gave while renewals fail, and stops at its end', async () => {
    const key = 'drive/saved-lease';
    const start = Date.now();
    const clock = { now: start };
    const { promise: inSet, resolve: entered } = signalled();
    let signal: AbortSignal | undefined;
    await prepare(key, {
      create: async () => {
        // The save before the next step holds the run until start + 1 000 + LEASE_MS.
        clock.now = start + 1_000;
        return { value: value() };
      },
      set: async (c) => {
        signal = c.signal;
        entered();
        await aborted(c.signal);
      },
    });
    let failures = 0;
    const engine = engineWith({
      clock: () => clock.now,
      // Until the set step runs, renewals never answer (none may fail between the clock's move
      // and the save after it); from then on each fails.
      store: renewingBy(async () => {
        if (signal === undefined) return new Promise<boolean>(() => {});
        failures++;
        throw new Error('storage unreachable');
      }),
    });
    const outcome = settle(engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await inSet;
    // Past the lease the run started with: the one its last save gave holds until its end.
    await stopsAtLeaseEnd(
      start + 1_000 + LEASE_MS,
      clock,
      () => failures,
      () => signal,
    );
    expect((await outcome).ok).toBe(false);
  });

  it('rolls back when the pending version is gone before a step reads it', async () => {
    const key = 'drive/gone';
    await prepare(key, {});
    const engine = engineWith({
      beforeStep: async (step) => {
        if (step !== 'set') return;
        const meta = await s.server.context.kv.readMetadata(key);
        await s.server.context.kv.destroyVersions(key, [meta?.current_version as number]);
      },
    });
    const result = await engine.rotate({ mount: 'secret', key }, { by: 'test' });
    expect(result.result).toBe('rolled_back');
    expect(result.steps.map((x) => [x.step, x.result, x.error])).toEqual([
      ['create', 'ok', undefined],
      ['set', 'failed', 'the pending version is gone [ERR_NOT_FOUND]'],
      ['rollback', 'ok', undefined],
    ]);
  });

  it('leaves a run whose rollback failed running, with the rollback to retry', async () => {
    const key = 'drive/stuck';
    await prepare(key, {
      test: async () => {
        throw new Error('the database refused the new password');
      },
      rollback: async () => {
        throw new Error('the database is down');
      },
    });
    const result = await engineWith().rotate({ mount: 'secret', key }, { by: 'test' });
    expect(result.result).toBe('failed');
    expect(result.steps.map((x) => [x.step, x.result])).toEqual([
      ['create', 'ok'],
      ['set', 'ok'],
      ['test', 'failed'],
      ['rollback', 'failed'],
    ]);
    const run = await s.server.context.rotation.store.readRun(`secret/${key}`);
    expect(run).toMatchObject({
      state: 'running',
      step: 'rollback',
      error: 'the database is down',
    });
  });

  it('counts a rotation whose own finish failed after the labels moved as succeeded, with the error', async () => {
    const key = 'drive/finish';
    await prepare(key, {
      finish: async () => {
        throw new Error('the old sessions could not be closed');
      },
    });
    const result = await engineWith().rotate({ mount: 'secret', key }, { by: 'test' });
    expect(result.result).toBe('succeeded');
    expect(result.steps.map((x) => [x.step, x.result])).toEqual([
      ['create', 'ok'],
      ['set', 'ok'],
      ['test', 'ok'],
      ['finish', 'failed'],
    ]);
    const run = await s.server.context.rotation.store.readRun(`secret/${key}`);
    expect(run).toMatchObject({
      state: 'succeeded',
      error: 'the old sessions could not be closed',
    });
    const meta = await s.server.context.kv.readMetadata(key);
    expect(meta?.labels).toEqual({ AWSCURRENT: 2, AWSPREVIOUS: 1 });
  });

  it('keeps a rotation succeeded when retiring the old value at once fails, and records why', async () => {
    const key = 'drive/retire';
    await prepare(
      key,
      {
        retire: async () => {
          throw new Error('the old user could not be dropped');
        },
      },
      '0s',
    );
    const result = await engineWith().rotate({ mount: 'secret', key }, { by: 'test' });
    expect(result.result).toBe('succeeded');
    const run = await s.server.context.rotation.store.readRun(`secret/${key}`);
    expect(run?.state).toBe('succeeded');
    expect(run?.retired).toBeUndefined();
    expect(run?.error).toBe(
      'retiring the previous value failed: the old user could not be dropped',
    );
  });

  it('renews every third of the lease (10 ms at least) and gives up no lease of a run that ended', async () => {
    const key = 'drive/cadence';
    await prepare(key, {});
    const store = s.server.context.rotation.store;
    const released: string[] = [];
    const releasing: RotationStore = {
      ...store,
      releaseRun: (...args) => {
        released.push(args[1]);
        return store.releaseRun(...args);
      },
    };
    const delays: (number | undefined)[] = [];
    const real = globalThis.setInterval;
    const spy = vi.spyOn(globalThis, 'setInterval').mockImplementation(((
      handler: () => void,
      ms?: number,
    ) => {
      delays.push(ms);
      return real(handler, ms);
    }) as typeof setInterval);
    try {
      for (const runLeaseMs of [90_000, 15]) {
        const engine = engineOn(s.server, { runLeaseMs, store: releasing });
        const done = await engine.rotate({ mount: 'secret', key }, { by: 'test' });
        expect(done.result).toBe('succeeded');
      }
    } finally {
      spy.mockRestore();
    }
    expect(delays).toContain(30_000);
    expect(delays).toContain(10);
    expect(released).toEqual([]);
  });

  it('forgets a drive that ended: stopping the node later fires no signal it handed out', async () => {
    const key = 'drive/forgotten';
    let signal: AbortSignal | undefined;
    await prepare(key, {
      set: async (c) => {
        signal = c.signal;
      },
    });
    const engine = engineWith();
    expect((await engine.rotate({ mount: 'secret', key }, { by: 'test' })).result).toBe(
      'succeeded',
    );
    await engine.stopBackground();
    expect(signal?.aborted).toBe(false);
  });

  it('stops every drive when the node stops, and returns only once they ended', async () => {
    const key = 'drive/stopping';
    const { promise: inSet, resolve: entered } = signalled();
    const order: string[] = [];
    await prepare(key, {
      set: async (c) => {
        entered();
        await aborted(c.signal);
        // A step that takes a moment to reach its safe point after the signal.
        await new Promise((r) => setTimeout(r, 30));
        order.push('step ended');
      },
    });
    const engine = engineWith();
    const outcome = settle(engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await inSet;
    await engine.stopBackground();
    order.push('stopped');
    expect(order).toEqual(['step ended', 'stopped']);
    const ended = await outcome;
    expect(ended.ok).toBe(false);
    const error = (ended as { error: unknown }).error;
    expect(isServerError(error, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect((error as Error).message).toBe('the node is stopping');
  });

  it('stops a continued finish when the node stops, and forgets it once it ended', async () => {
    const key = 'drive/continued';
    let failFinish = true;
    const { promise: inFinish, resolve: entered } = signalled();
    const order: string[] = [];
    await prepare(key, {
      finish: async (c) => {
        if (failFinish) throw new Error('the old sessions could not be closed');
        entered();
        await aborted(c.signal);
        await new Promise((r) => setTimeout(r, 30));
        order.push('finish ended');
        // Stopped at its safe point, as a rotator's step does.
        throw c.signal.reason;
      },
    });
    const engine = engineWith();
    expect((await engine.rotate({ mount: 'secret', key }, { by: 'test' })).result).toBe(
      'succeeded',
    );
    failFinish = false;
    const continued = settle(engine.continueFinish(`secret/${key}`));
    await inFinish;
    await engine.stopBackground();
    order.push('stopped');
    expect(order).toEqual(['finish ended', 'stopped']);
    const ended = await continued;
    expect(ended.ok).toBe(false);
    expect((ended as { error: Error }).error.message).toBe('the node is stopping');
    // Nothing tracked is left: stopping again returns at once.
    await engine.stopBackground();
  });

  it('forgets a continued finish that ended, so stopping the node does not wait for it', async () => {
    const key = 'drive/continued-done';
    let failFinish = true;
    await prepare(key, {
      finish: async () => {
        if (failFinish) throw new Error('the old sessions could not be closed');
      },
    });
    const engine = engineWith();
    await engine.rotate({ mount: 'secret', key }, { by: 'test' });
    failFinish = false;
    expect((await engine.continueFinish(`secret/${key}`)).result).toBe('succeeded');
    await engine.stopBackground();
  });
});
