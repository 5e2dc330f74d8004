import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import type { AuditBroker } from '../audit/audit-broker.js';
import { isServerError } from '../errors.js';
import { builtInRotators } from './built-in-rotators.js';
import { createEngineParts, NEVER_ABORTED } from './rotation-engine-parts.js';
import type { RotationRun } from './rotation-store.js';
import { kvSecrets } from './rotation-target.js';

/** What the parts hand the audit log, in order (the broker itself is tested in audit/). */
interface Logged {
  readonly kind: 'request' | 'response';
  readonly value: unknown;
}

/** The parts the engine's files share (rotation-engine-parts.ts), on one SQLite server. */
describe('the rotation engine parts', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { rotationSchedulerIntervalMs: 0 });
    await s.request('POST', 'secret/data/parts/db', { body: { data: { password: 'one' } } });
    await s.request('POST', 'secret/data/parts/db', { body: { data: { password: 'two' } } });
  });
  afterAll(async () => {
    await s.close();
  });

  /** Parts built in each test (a mutant is then applied to what the test uses). */
  const partsWith = (options: { runLeaseMs?: number; clock?: () => number } = {}) => {
    const ctx = s.server.context;
    const logged: Logged[] = [];
    const audit: Pick<AuditBroker, 'logRequest' | 'logResponse'> = {
      logRequest: async (request) => {
        logged.push({ kind: 'request', value: request });
        return { sinks: new Map(), logged: true };
      },
      logResponse: async (_record, status, body) => {
        logged.push({ kind: 'response', value: { status, body } });
      },
    };
    const parts = createEngineParts(
      {
        store: ctx.rotation.store,
        secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
        rotators: builtInRotators(),
        audit,
        clock: options.clock ?? Date.now,
        ...(options.runLeaseMs === undefined ? {} : { runLeaseMs: options.runLeaseMs }),
      },
      'node-a',
    );
    return { parts, logged };
  };

  const run = (fields: Partial<RotationRun> = {}): RotationRun => ({
    id: 'run-1',
    secret: 'secret/parts/db',
    rotator: 'random',
    by: 'accessor-1',
    started_time: '2026-01-01T00:00:00.000Z',
    step: 'create',
    state: 'running',
    from_version: 2,
    steps: [],
    ...fields,
  });

  it('holds run leases a minute unless told otherwise, and tells the time by its clock', () => {
    expect(partsWith().parts.runLeaseMs).toBe(60_000);
    expect(partsWith({ runLeaseMs: 250 }).parts.runLeaseMs).toBe(250);
    const at = Date.parse('2026-03-04T05:06:07.089Z');
    expect(partsWith({ clock: () => at }).parts.nowIso()).toBe('2026-03-04T05:06:07.089Z');
    expect(partsWith().parts.owner).toBe('node-a');
  });

  it('refuses a name no KV version 2 mount holds', async () => {
    const { parts } = partsWith();
    const refused = await parts.resolve('nowhere/app').catch((err: unknown) => err);
    expect(isServerError(refused, 'ERR_INVALID_REQUEST')).toBe(true);
    expect((refused as Error).message).toBe('no KV version 2 mount holds nowhere/app');
  });

  it('names the rotators there are when a policy names one that is not', () => {
    const { parts } = partsWith();
    const names = builtInRotators().names();
    expect(() => parts.rotatorOf({ rotator: 'nope' } as never)).toThrow(
      `rotator nope is not available on this server (available: ${names.join(', ')})`,
    );
    expect(names).toContain('random');
    expect(parts.rotatorOf({ rotator: 'random' } as never).name).toBe('random');
  });

  it('reads a version as data: none for version 0 or none, nothing for a destroyed one', async () => {
    const { parts } = partsWith();
    const kv = s.server.context.kv;
    expect(await parts.dataOf(kv, 'parts/db', 0)).toEqual({});
    expect(await parts.dataOf(kv, 'parts/db', undefined)).toEqual({});
    expect(await parts.dataOf(kv, 'parts/db', 1)).toEqual({ password: 'one' });
    await s.request('POST', 'secret/data/parts/gone', { body: { data: { password: 'x' } } });
    await kv.destroyVersions('parts/gone', [1]);
    expect(await parts.dataOf(kv, 'parts/gone', 1)).toBeUndefined();
  });

  it("gives a step the run's id, the secret, the policy, the time, the current value and a reader", async () => {
    const at = Date.parse('2026-03-04T05:06:07.089Z');
    const { parts } = partsWith({ clock: () => at });
    const policy = { settings: { length: 40 }, grace_period: 90 };
    const context = await parts.contextOf(run(), policy, { password: 'two' });
    expect(context).toMatchObject({
      rotationId: 'run-1',
      secret: { mount: 'secret', key: 'parts/db' },
      settings: { length: 40 },
      gracePeriodSeconds: 90,
      now: at,
      current: { password: 'two' },
    });
    expect(context.signal).toBe(NEVER_ABORTED);
    expect(NEVER_ABORTED.aborted).toBe(false);
    expect(await context.readSecret('parts/db')).toEqual({ password: 'two' });
    expect(await context.readSecret('parts/missing')).toBeUndefined();
    const own = new AbortController().signal;
    expect((await parts.contextOf(run(), policy, {}, own)).signal).toBe(own);
  });

  it('audits a step before it runs and its outcome after, with who asked and why', async () => {
    const { parts, logged } = partsWith();
    const result = await parts.audited(
      run({ reason: 'quarterly', approved_by: ['alice', 'bob'] }),
      'set',
      async () => 'done',
    );
    expect(result).toBe('done');
    expect(logged).toEqual([
      {
        kind: 'request',
        value: {
          id: 'run-1/set',
          operation: 'update',
          path: 'sys/rotation-step/secret/parts/db',
          remoteAddress: '',
          token: undefined,
          entry: undefined,
          data: {
            rotation_id: 'run-1',
            step: 'set',
            by: 'accessor-1',
            reason: 'quarterly',
            approved_by: ['alice', 'bob'],
          },
        },
      },
      {
        kind: 'response',
        value: { status: 200, body: { data: { rotation_id: 'run-1', step: 'set', result: 'ok' } } },
      },
    ]);
  });

  it('audits a failed step as failed and hands its error on; no reason or approvers, no fields', async () => {
    const { parts, logged } = partsWith();
    const failure = new Error('the database refused');
    await expect(
      parts.audited(run(), 'test', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(logged.map((l) => l.value)).toEqual([
      expect.objectContaining({
        data: { rotation_id: 'run-1', step: 'test', by: 'accessor-1' },
      }),
      { status: 500, body: { data: { rotation_id: 'run-1', step: 'test', result: 'failed' } } },
    ]);
    const request = logged[0]?.value as { data: Record<string, unknown> };
    expect(Object.keys(request.data)).toEqual(['rotation_id', 'step', 'by']);
  });

  it('answers a run with what it did: the new version only when it succeeded', () => {
    const { parts } = partsWith();
    const steps = [{ step: 'create' as const, result: 'ok' as const, time: 't' }];
    // Strictly equal: a field absent from the run is absent from the answer, not undefined.
    const answer = { id: 'run-1', secret: 'secret/parts/db', steps, from_version: 2 };
    expect(parts.resultOf(run({ steps }), 'failed')).toStrictEqual({ ...answer, result: 'failed' });
    expect(parts.resultOf(run({ steps }), 'succeeded')).toStrictEqual({
      ...answer,
      result: 'succeeded',
    });
    expect(parts.resultOf(run({ steps, pending_version: 3 }), 'succeeded')).toStrictEqual({
      ...answer,
      result: 'succeeded',
      new_version: 3,
    });
    const done = run({
      steps,
      pending_version: 3,
      error: 'the finish failed',
      new_fingerprint: 'hmac-sha256:ab',
      retire_after: '2026-01-02T00:00:00.000Z',
    });
    expect(parts.resultOf(done, 'succeeded')).toStrictEqual({
      ...answer,
      result: 'succeeded',
      error: 'the finish failed',
      new_version: 3,
      new_fingerprint: 'hmac-sha256:ab',
      retire_after: '2026-01-02T00:00:00.000Z',
    });
    expect(parts.resultOf(done, 'rolled_back')).not.toHaveProperty('new_version');
  });

  it('refuses a secret whose policy was written for another mount of the same name', async () => {
    const { parts } = partsWith();
    const store = s.server.context.rotation.store;
    const secret = `secret/parts/moved-${randomUUID()}`;
    await s.request('POST', `secret/data/${secret.slice('secret/'.length)}`, {
      body: { data: { password: 'x' } },
    });
    await store.writePolicy(secret, {
      rotator: 'random',
      schedule: '90d',
      grace_period: 0,
      settings: {},
      mount_uuid: 'another-mount',
    } as never);
    const refused = await parts.resolve(secret).catch((err: unknown) => err);
    expect(isServerError(refused, 'ERR_INVALID_REQUEST')).toBe(true);
    expect((refused as Error).message).toBe(
      `${secret} is on another mount than the one its rotation policy was written for: write the policy again to rotate it`,
    );
  });
});
