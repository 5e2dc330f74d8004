import { CustosError } from '@custos/core/errors';
import type { TokenStore } from '../../auth/token-store.js';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MountTable } from '../../sys/mount-table.js';
import { approvalIdentity } from '../approval-identity.js';
import type { ApprovalStore } from '../approval-store.js';
import type { BackgroundJob } from '../background-jobs.js';
import { type RotationEngine, secretName } from '../rotation-engine.js';
import { DEFAULT_APPROVAL_TTL } from '../rotation-policy.js';
import { dueTime } from '../rotation-status.js';
import { lastSucceeded, rotationStatuses } from '../rotation-statuses.js';
import type { RotationRun, RotationStore } from '../rotation-store.js';
import { secretOfPath } from '../rotation-target.js';
import type { RewrapProgressStore } from '../rotators/rewrap-job.js';

/** What the run routes use. */
export interface RotationRunDeps {
  /** The mount table: a rotation names a secret of a KV version 2 mount. */
  readonly mounts: Pick<MountTable, 'list'>;
  readonly engine: RotationEngine;
  readonly store: RotationStore;
  readonly clock: () => number;
  /** Rewrap progress of `transit-key` rotations, shown with their runs in the history. */
  readonly rewrap?: RewrapProgressStore;
  /** Two-person approval: where requests wait, and the tokens whose identities count. */
  readonly approvals?: {
    readonly store: ApprovalStore;
    readonly tokens: Pick<TokenStore, 'personOf'>;
  };
}

/** A background job as the API shows it: its state, attempts, last error; never a value. */
function jobResponse(job: BackgroundJob): Record<string, unknown> {
  return {
    state: job.state,
    attempts: job.attempts,
    updated_time: job.updated_time,
    ...(job.ended_time === undefined ? {} : { ended_time: job.ended_time }),
    ...(job.error === undefined ? {} : { error: job.error }),
    ...(job.abandoned_by === undefined
      ? {}
      : { abandoned_by: job.abandoned_by, abandon_reason: job.abandon_reason ?? '' }),
    ...(job.lease_until_ms === undefined
      ? {}
      : { held_until: new Date(job.lease_until_ms).toISOString() }),
    ...(job.next_attempt_ms === undefined
      ? {}
      : { next_attempt: new Date(job.next_attempt_ms).toISOString() }),
  };
}

/** A run as the API shows it: steps, result, fingerprints; never a value. */
function runResponse(run: RotationRun): Record<string, unknown> {
  return {
    id: run.id,
    secret: run.secret,
    rotator: run.rotator,
    by: run.by,
    reason: run.reason ?? '',
    ...(run.approved_by === undefined ? {} : { approved_by: run.approved_by }),
    started_time: run.started_time,
    ended_time: run.ended_time ?? '',
    state: run.state,
    steps: run.steps,
    from_version: run.from_version,
    ...(run.pending_version === undefined ? {} : { new_version: run.pending_version }),
    ...(run.error === undefined ? {} : { error: run.error }),
    ...(run.old_fingerprint === undefined ? {} : { old_fingerprint: run.old_fingerprint }),
    ...(run.new_fingerprint === undefined ? {} : { new_fingerprint: run.new_fingerprint }),
    ...(run.retire_after === undefined ? {} : { retire_after: run.retire_after }),
    retired: run.retired === true,
    ...(run.abandoned === undefined ? {} : { abandoned: run.abandoned }),
  };
}

/**
 * `sys/rotate-secret/*` (rotate one secret now, or plan it), `sys/rotation-history/*` (its
 * runs) and `sys/rotation-status` (every policy: last rotation, next due, overdue). Answers
 * carry steps, results and keyed fingerprints, never a value: a token that may rotate a
 * secret or read its history learns nothing of what the secret holds.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [rotationRunPaths({ engine, store, clock })]);
 * ```
 */
export function rotationRunPaths(deps: RotationRunDeps): RouteGroup {
  return {
    name: 'sys/rotation-run',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/rotate-secret/*',
        fields: {
          dry_run: field.bool({ json: true }),
          force: field.bool({ json: true }),
          reason: field.string(),
        },
        handler: async (request, reply, { dry_run, force, reason }) => {
          const ref = secretOfPath(request.params['*'], await deps.mounts.list());
          if (reason !== undefined && reason.length > 512)
            throw new CustosError('ERR_INVALID_REQUEST', 'reason is at most 512 characters');
          const secret = secretName(ref);
          if (force !== true && dry_run !== true) {
            const policy = await deps.store.readPolicy(secret);
            if (policy === undefined)
              throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
            const due = dueTime(policy, lastSucceeded(await deps.store.history(secret)));
            if (deps.clock() < due)
              return ok(request, reply, {
                secret,
                result: 'not_due',
                next_due: new Date(due).toISOString(),
              });
          }
          const by = request.custos.entry?.accessor ?? 'unknown';
          const required = (await deps.store.readPolicy(secret))?.approvals ?? 0;
          if (required > 0 && dry_run !== true) {
            // Two-person approval: nothing rotates until others approve (a dry run changes
            // nothing and needs none). Without an approval store, fail closed.
            if (deps.approvals === undefined)
              throw new CustosError(
                'ERR_INVALID_REQUEST',
                `${secret} needs approvals this server cannot take`,
              );
            const policy = await deps.store.readPolicy(secret);
            const opened = await deps.approvals.store.open({
              secret,
              requester: await approvalIdentity(deps.approvals.tokens, request.custos.entry),
              requesterAccessor: by,
              ...(reason === undefined ? {} : { reason }),
              approvalsRequired: required,
              ttlSeconds: policy?.approval_ttl ?? DEFAULT_APPROVAL_TTL,
            });
            return ok(request, reply, {
              secret,
              result: 'approval_required',
              request_id: opened.id,
              approvals_required: required,
              expires_time: opened.expires_time,
              dry_run: false,
            });
          }
          const result = await deps.engine.rotate(ref, {
            by,
            ...(reason === undefined ? {} : { reason }),
            dryRun: dry_run === true,
          });
          return ok(request, reply, { ...result, dry_run: dry_run === true });
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/rotation-history/*',
        handler: async (request, reply) => {
          const secret = secretName(secretOfPath(request.params['*'], await deps.mounts.list()));
          const history = await deps.store.history(secret);
          const run = await deps.store.readRun(secret);
          // A run still in progress (or left by a crash) is not in the history yet; nor, for a
          // moment, one that just ended (saved as ended, then appended): read the history
          // first, the run second, and show the run unless the history has it.
          const all =
            run !== undefined && !history.some((h) => h.id === run.id)
              ? [...history, run]
              : history;
          const job = await deps.store.readJob(secret);
          const runs = [];
          for (const r of all) {
            const rewrap = r.rotator === 'transit-key' ? await deps.rewrap?.read(r.id) : undefined;
            runs.push({
              ...runResponse(r),
              ...(job?.rotation_id === r.id ? { background: jobResponse(job) } : {}),
              ...(rewrap === undefined
                ? {}
                : { rewrap: { version: rewrap.version, targets: rewrap.targets } }),
            });
          }
          return ok(request, reply, { secret, runs });
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/rotation-status',
        handler: async (request, reply) => {
          const secrets = await rotationStatuses(deps.store, deps.clock());
          return ok(request, reply, { secrets });
        },
      }),
    ],
  };
}
