import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { engineOn, heldStep, scriptedRotator, settle } from '../../test/scripted-rotator.js';
import { isServerError } from '../errors.js';
import { builtInRotators } from './built-in-rotators.js';
import type { RotationEngine } from './rotation-engine.js';
import type { RotationPolicy } from './rotation-policy.js';
import type { RotationRun, RotationStore } from './rotation-store.js';

/**
 * What `rotate` checks and records before it drives a run (rotation-engine.ts). Each test
 * builds its own engine, on one SQLite server.
 */

const value = () => randomBytes(12).toString('hex');
const { rotator: scripted, scripts } = scriptedRotator('engine-scripted');

describe('starting a rotation', () => {
  let s: TestServer;
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(scripted);
    s = await startTestServer('sqlite', { rotators, rotationSchedulerIntervalMs: 0 });
  });
  afterAll(async () => {
    await s.close();
  });

  const engineWith = (
    clock: () => number = Date.now,
    runLeaseMs?: number,
    store: RotationStore = s.server.context.rotation.store,
  ): RotationEngine =>
    engineOn(s.server, { clock, store, ...(runLeaseMs === undefined ? {} : { runLeaseMs }) });

  const prepare = async (key: string, gracePeriod = '1h') => {
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: value() } } });
    const r = await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'engine-scripted', schedule: '90d', grace_period: gracePeriod },
    });
    expect(r.status).toBe(204);
  };

  /**
   * The server's store, keeping a copy of each run as the engine hands it to `startRun` (a
   * stored copy drops undefined fields; another node reads the run as first stored).
   */
  const recordingStarts = () => {
    const store = s.server.context.rotation.store;
    const started: RotationRun[] = [];
    const recording: RotationStore = {
      ...store,
      startRun: (run, after) => {
        started.push(structuredClone(run));
        return store.startRun(run, after);
      },
    };
    return { store: recording, started };
  };

  /** The error `promise` rejects with (the test fails when it resolves). */
  const refusal = async (promise: Promise<unknown>) => {
    const outcome = await settle(promise);
    expect(outcome.ok).toBe(false);
    return (outcome as { error: Error }).error;
  };

  it('refuses a secret without a rotation policy', async () => {
    await s.request('POST', 'secret/data/engine/none', { body: { data: { value: value() } } });
    const error = await refusal(
      engineWith().rotate({ mount: 'secret', key: 'engine/none' }, { by: 'test' }),
    );
    expect(isServerError(error, 'ERR_NOT_FOUND')).toBe(true);
    expect(error.message).toBe('no rotation policy for secret/engine/none');
  });

  it('refuses a name that the mount table reads as another mount and key', async () => {
    const ctx = s.server.context;
    // A policy of secret/engine/inner/app (no mount recorded), asked for as the key inner/app
    // of a mount at secret/engine/, which the mount table reads as the key engine/inner/app of
    // the mount at secret/.
    await ctx.rotation.store.writePolicy('secret/engine/inner/app', {
      rotator: 'engine-scripted',
      schedule: '90d',
      grace_period: 3600,
      settings: {},
      automatic: true,
    } as unknown as RotationPolicy);
    await s.request('POST', 'secret/data/engine/inner/app', { body: { data: { value: value() } } });
    const error = await refusal(
      engineWith().rotate({ mount: 'secret/engine', key: 'inner/app' }, { by: 'test' }),
    );
    expect(isServerError(error, 'ERR_INVALID_REQUEST')).toBe(true);
    expect(error.message).toBe(
      'secret/engine/inner/app no longer names a secret of the mount at secret/engine/',
    );
    // Asked for under the name the mount table gives it, the same secret rotates.
    const done = await engineWith().rotate(
      { mount: 'secret', key: 'engine/inner/app' },
      { by: 'test' },
    );
    expect(done.result).toBe('succeeded');
  });

  it('refuses a second rotation while one runs, or skips it when asked to start after another', async () => {
    const key = 'engine/busy';
    await prepare(key);
    const held = heldStep();
    scripts.set(key, { set: held.step });
    const engine = engineWith();
    const first = settle(engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await held.entered;
    const running = await s.server.context.rotation.store.readRun(`secret/${key}`);
    const error = await refusal(engineWith().rotate({ mount: 'secret', key }, { by: 'test' }));
    expect(isServerError(error, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect(error.message).toBe(`a rotation of secret/${key} is already running`);
    expect(
      await engineWith().rotate({ mount: 'secret', key }, { by: 'test', after: 'another-run' }),
    ).toEqual({ id: running?.id, secret: `secret/${key}`, result: 'skipped', steps: [] });
    // A dry run does not look at the running one.
    const planned = await engineWith().rotate(
      { mount: 'secret', key },
      { by: 'test', dryRun: true },
    );
    expect(planned.result).toBe('planned');
    await engine.stopBackground();
    expect((await first).ok).toBe(false);
  });

  it('refuses a secret whose current version is destroyed', async () => {
    const key = 'engine/destroyed';
    await prepare(key);
    await s.server.context.kv.destroyVersions(key, [1]);
    const error = await refusal(engineWith().rotate({ mount: 'secret', key }, { by: 'test' }));
    expect(isServerError(error, 'ERR_INVALID_REQUEST')).toBe(true);
    expect(error.message).toBe(
      `the current version of secret/${key} is deleted or destroyed: undelete it or write a new one first`,
    );
  });

  it('plans a dry run: the steps, the versions and the policy, the pending value made and dropped', async () => {
    const key = 'engine/plan';
    await prepare(key, '2h');
    const result = await engineWith().rotate(
      { mount: 'secret', key },
      { by: 'test', dryRun: true },
    );
    expect(result).toMatchObject({
      secret: `secret/${key}`,
      result: 'planned',
      from_version: 1,
      plan: {
        rotator: 'engine-scripted',
        steps: ['create', 'set', 'test', 'finish'],
        from_version: 1,
        grace_period_seconds: 7200,
        automatic: true,
      },
    });
    expect(result.steps.map((x) => [x.step, x.result])).toEqual([['create', 'ok']]);
    expect((await s.server.context.kv.readMetadata(key))?.current_version).toBe(1);
    expect(await s.server.context.rotation.store.readRun(`secret/${key}`)).toBeUndefined();
  });

  it('fails a dry run whose rotator creates no data (nothing, or not an object), saying so', async () => {
    for (const [i, made] of [null, 'a string', 42].entries()) {
      const key = `engine/plan-empty-${i}`;
      await prepare(key);
      scripts.set(key, { create: async () => made as never });
      const result = await engineWith().rotate(
        { mount: 'secret', key },
        { by: 'test', dryRun: true },
      );
      expect(result.result).toBe('failed');
      expect(result.error).toBe('the rotator created no data');
      expect(result.steps.map((x) => [x.step, x.result, x.error])).toEqual([
        ['create', 'failed', 'the rotator created no data'],
      ]);
    }
  });

  it('audits a dry run as its own step, before and after', async () => {
    const key = 'engine/plan-audited';
    await prepare(key);
    const logged: unknown[] = [];
    const audit = s.server.context.audit;
    const engine = engineOn(s.server, {
      audit: {
        logRequest: async (request) => {
          logged.push(request.data);
          return audit.logRequest(request);
        },
        logResponse: async (record, status, body) => {
          logged.push({ status, body });
          return audit.logResponse(record, status, body);
        },
      },
    });
    const result = await engine.rotate({ mount: 'secret', key }, { by: 'test', dryRun: true });
    expect(logged).toEqual([
      { rotation_id: result.id, step: 'dry-run', by: 'test' },
      { status: 200, body: { data: { rotation_id: result.id, step: 'dry-run', result: 'ok' } } },
    ]);
  });

  it('keeps a dry run from quoting the current value when its rotator fails with it', async () => {
    const key = 'engine/plan-leak';
    await prepare(key);
    const found = await s.server.context.kv.read(key);
    const canary = found.kind === 'ok' ? String(found.data.value) : '';
    expect(canary).toHaveLength(24);
    scripts.set(key, {
      create: async (c) => {
        throw new Error(`cannot log in with ${String(c.current.value)}`);
      },
    });
    const result = await engineWith().rotate(
      { mount: 'secret', key },
      { by: 'test', dryRun: true },
    );
    expect(result.result).toBe('failed');
    expect(result.error).toMatch(/^cannot log in with /);
    expect(JSON.stringify(result)).not.toContain(canary);
  });

  it('leaves the background work of a run still at finish to that run', async () => {
    const key = 'engine/finish-first';
    await prepare(key);
    const held = heldStep();
    scripts.set(key, { set: held.step });
    const engine = engineWith();
    const rotation = settle(engine.rotate({ mount: 'secret', key }, { by: 'test' }));
    await held.entered;
    const store = s.server.context.rotation.store;
    const running = await store.readRun(`secret/${key}`);
    // The job of a run its node left at finish (recorded before the labels move).
    await store.recordJob({
      rotationId: running?.id as string,
      secret: `secret/${key}`,
      rotator: 'engine-scripted',
      settings: {},
      gracePeriod: 3600,
      nowMs: Date.now(),
    });
    expect(await engineWith().startBackground()).not.toContain(`secret/${key}`);
    expect((await store.readJob(`secret/${key}`))?.state).toBe('pending');
    await store.dropJob(`secret/${key}`, running?.id as string);
    await engine.stopBackground();
    expect((await rotation).ok).toBe(false);
  });

  it('refuses while the last rotation has background work not finished', async () => {
    const key = 'engine/background';
    await prepare(key);
    const engine = engineWith();
    const done = await engine.rotate({ mount: 'secret', key }, { by: 'test' });
    const store = s.server.context.rotation.store;
    await store.recordJob({
      rotationId: done.id,
      secret: `secret/${key}`,
      rotator: 'engine-scripted',
      settings: {},
      gracePeriod: 3600,
      nowMs: Date.now(),
    });
    const error = await refusal(engineWith().rotate({ mount: 'secret', key }, { by: 'test' }));
    expect(isServerError(error, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    expect(error.message).toBe(
      `the background work of the last rotation of secret/${key} has not finished (pending): wait for it, or continue it (custos rotation continue secret/${key})`,
    );
    await store.dropJob(`secret/${key}`, done.id);
  });

  it('retires the value the last rotation replaced before it starts the next', async () => {
    const key = 'engine/again';
    await prepare(key);
    const retired: number[] = [];
    scripts.set(key, {
      retire: async (c) => {
        retired.push(Number(c.previous.value === undefined ? -1 : 1));
      },
    });
    const first = await engineWith().rotate({ mount: 'secret', key }, { by: 'test' });
    expect(first.result).toBe('succeeded');
    const second = await engineWith().rotate({ mount: 'secret', key }, { by: 'test' });
    expect(second.result).toBe('succeeded');
    expect(retired).toEqual([1]);
    const history = await s.server.context.rotation.store.history(`secret/${key}`);
    expect(history.find((r) => r.id === first.id)?.retired).toBe(true);
    expect((await s.server.context.kv.readMetadata(key))?.labels).toEqual({
      AWSCURRENT: 3,
      AWSPREVIOUS: 2,
    });
  });

  it('starts only after the run it was asked to follow, and skips otherwise', async () => {
    const key = 'engine/after';
    await prepare(key);
    const first = await engineWith().rotate({ mount: 'secret', key }, { by: 'test' });
    const skipped = await engineWith().rotate(
      { mount: 'secret', key },
      { by: 'scheduler', after: 'not-the-last-run' },
    );
    expect(skipped.result).toBe('skipped');
    expect(skipped.id).not.toBe(first.id);
    expect((await s.server.context.rotation.store.readRun(`secret/${key}`))?.id).toBe(first.id);
    const next = await engineWith().rotate(
      { mount: 'secret', key },
      { by: 'scheduler', after: first.id },
    );
    expect(next.result).toBe('succeeded');
  });

  it('records who started the run, why, who approved it, its version id and its lease', async () => {
    const key = 'engine/record';
    await prepare(key);
    const held = heldStep();
    scripts.set(key, { set: held.step });
    const at = Date.now();
    // What the run is first stored as (before the drive's first save), as another node reads it.
    const { store, started } = recordingStarts();
    const engine = engineWith(() => at, 45_000, store);
    const rotation = settle(
      engine.rotate(
        { mount: 'secret', key },
        {
          by: 'accessor-9',
          reason: 'leaked in a log',
          approvedBy: ['alice', 'bob'],
          versionId: 'client-token-1',
        },
      ),
    );
    await held.entered;
    const run = await s.server.context.rotation.store.readRun(`secret/${key}`);
    expect(run).toMatchObject({
      secret: `secret/${key}`,
      rotator: 'engine-scripted',
      by: 'accessor-9',
      reason: 'leaked in a log',
      approved_by: ['alice', 'bob'],
      version_id: 'client-token-1',
      started_time: new Date(at).toISOString(),
      step: 'set',
      state: 'running',
      from_version: 1,
      pending_version: 2,
      saved_ms: at,
      lease_until_ms: at + 45_000,
    });
    expect(typeof run?.owner).toBe('string');
    expect(started).toEqual([
      expect.objectContaining({
        step: 'create',
        saved_ms: at,
        owner: run?.owner,
        lease_until_ms: at + 45_000,
      }),
    ]);
    expect((await s.server.context.kv.readMetadata(key))?.version_ids).toEqual({
      'client-token-1': 2,
    });
    await engine.stopBackground();
    expect((await rotation).ok).toBe(false);
  });

  it('records no reason, approvers or version id that were not given', async () => {
    const key = 'engine/bare';
    await prepare(key);
    // The run as the engine hands it to the store, and as stored.
    const { store, started } = recordingStarts();
    const engine = engineWith(Date.now, undefined, store);
    const done = await engine.rotate({ mount: 'secret', key }, { by: 'test' });
    const run = await store.readRun(`secret/${key}`);
    expect(run?.id).toBe(done.id);
    for (const given of [run, started[0]]) {
      expect(given).not.toHaveProperty('reason');
      expect(given).not.toHaveProperty('approved_by');
      expect(given).not.toHaveProperty('version_id');
    }
    expect(started.map((r) => r.id)).toEqual([done.id]);
  });
});
