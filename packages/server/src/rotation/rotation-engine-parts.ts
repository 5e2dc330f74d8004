import { CustosError } from '@custos/core/errors';
import type { AuditBroker } from '../audit/audit-broker.js';
import type { KvEngine } from '../kv/kv-engine.js';
import type { RotationPolicy } from './rotation-policy.js';
import type { RotationRun, RotationStep, RotationStore } from './rotation-store.js';
import type { ResolvedSecret } from './rotation-target.js';
import type { RotationResult } from './rotation-types.js';
import type { RotationContext, Rotator, RotatorRegistry } from './rotator.js';

/** What the engine is given. */
export interface RotationEngineDeps {
  readonly store: RotationStore;
  /**
   * The secret a stored name (`teams/a/kv/app/db`) names in the mount table in force (its mount
   * is the longest mount path the name starts with: `kvSecrets`) and the KV engine serving
   * it; undefined when no KV version 2 mount holds it.
   */
  secretOf(secret: string): Promise<ResolvedSecret | undefined>;
  readonly rotators: RotatorRegistry;
  readonly audit: Pick<AuditBroker, 'logRequest' | 'logResponse'>;
  readonly clock: () => number;
  /**
   * How long a node's claim on a background job holds without renewal (default 60 000 ms): a
   * node that dies holding one is replaced that long after its last renewal.
   */
  readonly backgroundLeaseMs?: number;
  /**
   * How long a node's claim on a running rotation holds without renewal (default 60 000 ms),
   * renewed every third of it while a step runs: another node resumes the run only after that
   * (rotation/NOTES.md, "Leases").
   */
  readonly runLeaseMs?: number;
  /**
   * Tests only: runs after a step was persisted as next and before it runs; throwing there is
   * a crash between two steps (the run stays as persisted).
   */
  readonly beforeStep?: (step: RotationStep, run: Readonly<RotationRun>) => Promise<void>;
}

/** A signal that never fires: for the work no lease covers (a dry run, a retirement). */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * What every part of the engine shares (rotation-engine.ts builds it once): the store, this
 * engine's name in run claims, name resolution, the rotator of a policy, the data of a
 * version, the context a rotator step is given, audited steps and the answer of a run.
 */
export interface EngineParts {
  readonly deps: RotationEngineDeps;
  readonly store: RotationStore;
  /** This engine's name in run claims (a random id per engine). */
  readonly owner: string;
  readonly runLeaseMs: number;
  nowIso(): string;
  /** The stored name `secret` resolved in the mount table in force (never by its first segment). */
  resolve(secret: string): Promise<ResolvedSecret>;
  rotatorOf(policy: RotationPolicy): Rotator;
  /** The data of `version` of `key` (`{}` for version 0); undefined when it is gone. */
  dataOf(
    kv: KvEngine,
    key: string,
    version: number | undefined,
  ): Promise<Record<string, unknown> | undefined>;
  contextOf(
    run: Pick<RotationRun, 'id' | 'secret'>,
    policy: Pick<RotationPolicy, 'settings' | 'grace_period'>,
    current: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<RotationContext>;
  /** Writes one step to the audit log: the request before it runs, the outcome after. */
  audited<T>(run: RotationRun, step: string, work: () => Promise<T>): Promise<T>;
  resultOf(run: RotationRun, result: RotationResult['result']): RotationResult;
}

/**
 * Creates the parts the engine's files share.
 *
 * @example
 * ```ts
 * const parts = createEngineParts(deps, randomUUID());
 * const { ref, kv } = await parts.resolve('secret/app/db');
 * ```
 */
export function createEngineParts(deps: RotationEngineDeps, owner: string): EngineParts {
  const { store, rotators, audit } = deps;

  const resolve = async (secret: string): Promise<ResolvedSecret> => {
    const found = await deps.secretOf(secret);
    if (found === undefined)
      throw new CustosError('ERR_INVALID_REQUEST', `no KV version 2 mount holds ${secret}`);
    // Fail closed: a policy written for the secret of one mount never drives another mount's
    // secret that came to answer to the same name (rotation-policy.ts, `mount_uuid`).
    const written = (await store.readPolicy(secret))?.mount_uuid;
    if (written !== undefined && written !== found.mountUuid)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `${secret} is on another mount than the one its rotation policy was written for: write the policy again to rotate it`,
      );
    return found;
  };

  const dataOf: EngineParts['dataOf'] = async (kv, key, version) => {
    if (version === undefined || version === 0) return {};
    const found = await kv.read(key, version);
    return found.kind === 'ok' ? found.data : undefined;
  };

  return {
    deps,
    store,
    owner,
    runLeaseMs: deps.runLeaseMs ?? 60_000,
    nowIso: () => new Date(deps.clock()).toISOString(),
    resolve,
    rotatorOf(policy) {
      const rotator = rotators.get(policy.rotator);
      if (rotator === undefined)
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          `rotator ${policy.rotator} is not available on this server (available: ${rotators.names().join(', ')})`,
        );
      return rotator;
    },
    dataOf,
    async contextOf(run, policy, current, signal = NEVER_ABORTED) {
      const { ref, kv } = await resolve(run.secret);
      return {
        rotationId: run.id,
        secret: ref,
        settings: policy.settings,
        gracePeriodSeconds: policy.grace_period,
        now: deps.clock(),
        current,
        signal,
        readSecret: async (key) => {
          const found = await kv.read(key);
          return found.kind === 'ok' ? found.data : undefined;
        },
      };
    },
    async audited(run, step, work) {
      const record = await audit.logRequest({
        id: `${run.id}/${step}`,
        operation: 'update',
        path: `sys/rotation-step/${run.secret}`,
        remoteAddress: '',
        token: undefined,
        entry: undefined,
        data: {
          rotation_id: run.id,
          step,
          by: run.by,
          ...(run.reason ? { reason: run.reason } : {}),
          ...(run.approved_by === undefined ? {} : { approved_by: run.approved_by }),
        },
      });
      try {
        const result = await work();
        await audit.logResponse(record, 200, { data: { rotation_id: run.id, step, result: 'ok' } });
        return result;
      } catch (err) {
        await audit.logResponse(record, 500, {
          data: { rotation_id: run.id, step, result: 'failed' },
        });
        throw err;
      }
    },
    resultOf: (run, result) => ({
      id: run.id,
      secret: run.secret,
      result,
      steps: run.steps,
      ...(run.error === undefined ? {} : { error: run.error }),
      from_version: run.from_version,
      ...(run.pending_version === undefined || result !== 'succeeded'
        ? {}
        : { new_version: run.pending_version }),
      ...(run.new_fingerprint === undefined ? {} : { new_fingerprint: run.new_fingerprint }),
      ...(run.retire_after === undefined ? {} : { retire_after: run.retire_after }),
    }),
  };
}
