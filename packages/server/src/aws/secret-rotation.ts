import { isCustosError } from '@custos/core/errors';
import { isServerError } from '../errors.js';
import { CURRENT_LABEL, PENDING_LABEL } from '../kv/kv-labels.js';
import type { KeyMetadata } from '../kv/kv-metadata.js';
import type { RotationEngine, RotationResult } from '../rotation/rotation-engine.js';
import { policyOf, type RotationPolicy } from '../rotation/rotation-policy.js';
import { formatSchedule } from '../rotation/rotation-schedule.js';
import { dueTime } from '../rotation/rotation-status.js';
import { lastSucceeded } from '../rotation/rotation-statuses.js';
import type { RotationRun, RotationStore } from '../rotation/rotation-store.js';
import type { RotatorRegistry } from '../rotation/rotator.js';
import { AwsError, invalidParameter, invalidRequest } from './aws-error.js';
import {
  arnOfRotator,
  periodOf,
  type RulesSchedule,
  rotatorOfArn,
  rulesOfPolicy,
  scheduleOfRules,
} from './rotation-rules.js';
import type { SecretRef } from './secret-id.js';
import { epochOf, versionIdOf, versionOfId, versionOfStage } from './secret-versions.js';
import { findSecret, type SecretsManagerDeps } from './secrets-manager.js';

/** What RotateSecret and CancelRotateSecret run on: the server's rotation engine and its state. */
export interface SecretsRotationDeps {
  readonly engine: RotationEngine;
  readonly store: RotationStore;
  readonly rotators: RotatorRegistry;
}

/** What RotateSecret asks for, read from its body. */
export interface RotateSecretInput {
  readonly token: string | undefined;
  /** `RotationLambdaARN` as sent (undefined: keep the policy's rotator). */
  readonly lambdaArn: unknown;
  /** `RotationRules` as sent (undefined: keep the policy's schedule). */
  readonly rules: unknown;
  /** `RotateImmediately` (default true). */
  readonly immediately: boolean;
  /** Who asks, as the rotation history records it. */
  readonly by: string;
  /** The caller's ACL (the rights a rotator's settings require). */
  readonly allows: (path: string, capability: 'update' | 'read') => boolean;
}

const inProgress = () =>
  invalidRequest(
    "A previous rotation isn't complete: AWSPENDING is on a version that is not AWSCURRENT (or a rotation is running). Finish or undo it first (UpdateSecretVersionStage).",
  );

/** The rotation deps, or a refusal on a server that serves no rotation here. */
function rotationOf(deps: SecretsManagerDeps): SecretsRotationDeps {
  if (deps.rotation === undefined)
    throw invalidRequest('This server does not serve rotation through the Secrets Manager API.');
  return deps.rotation;
}

/** The rotation-engine name of an AWS secret: `<mount>/<name>`. */
const engineSecret = (deps: SecretsManagerDeps, name: string) => `${deps.site.mount}/${name}`;

/** The KV version id a run gives its pending version (the client's token, else the run's id). */
const versionIdOfRun = (run: Pick<RotationRun, 'id' | 'version_id'>) => run.version_id ?? run.id;

/** The run (in progress or ended) whose pending version has the id `versionId`, if any. */
async function runOfVersionId(
  store: RotationStore,
  secret: string,
  versionId: string,
): Promise<RotationRun | undefined> {
  const run = await store.readRun(secret);
  if (run !== undefined && versionIdOfRun(run) === versionId) return run;
  return (await store.history(secret)).find((r) => versionIdOfRun(r) === versionId);
}

/** The step a run failed at (the first failed step), for the answer. */
const failedStep = (steps: RotationRun['steps']) =>
  steps.find((s) => s.result === 'failed')?.step ?? 'unknown';

/**
 * The answer to a rotation that ended: its version for a success, AWS-shaped refusals
 * otherwise. Errors were scrubbed of values by the engine (scrub-values.ts).
 */
function answerOfRun(
  found: { name: string; arn: string },
  run: { state: string; steps: RotationRun['steps']; error?: string | undefined },
  versionId: string,
): Record<string, unknown> {
  if (run.state === 'succeeded') return { ARN: found.arn, Name: found.name, VersionId: versionId };
  if (run.state === 'rolled_back')
    throw invalidRequest(
      `The rotation failed at its ${failedStep(run.steps)} step and was rolled back: AWSCURRENT is unchanged (${run.error ?? 'no reason recorded'}).`,
    );
  if (run.state === 'running') throw inProgress();
  throw new AwsError(
    'InternalServiceError',
    `The rotation failed at its ${failedStep(run.steps)} step and its rollback did not complete: AWSCURRENT is unchanged, nothing else rotates this secret until the rollback is resumed.`,
    500,
  );
}

/**
 * The settings a rotator gets when the policy is new (or named another rotator): `random`
 * writes an AWS string secret's `SecretString` (so it stays an AWS string secret); other
 * rotators take none here (those needing settings take a policy written through
 * `sys/rotation`, which RotateSecret then keeps).
 */
async function defaultSettings(
  deps: SecretsManagerDeps,
  name: string,
  rotator: string,
): Promise<Record<string, unknown>> {
  if (rotator !== 'random') return {};
  const found = await deps.kv.read(name);
  const data = found.kind === 'ok' ? found.data : {};
  const keys = Object.keys(data);
  if (keys.length === 1 && typeof data.SecretString === 'string') return { field: 'SecretString' };
  if (keys.length === 1 && typeof data.SecretBinary === 'string')
    throw invalidRequest(
      'The random rotator would turn this binary secret into a key/value one: set a rotation policy with settings.field through sys/rotation first.',
    );
  return {};
}

/**
 * RotateSecret through the rotation engine: writes (or updates) the secret's rotation policy
 * from `RotationLambdaARN` (a custos rotator) and `RotationRules`, enabling automatic rotation,
 * then rotates now (the four steps, synchronously) or, with `RotateImmediately: false`, runs
 * the dry run (preflight and create, nothing written). The new version's id is the client's
 * `ClientRequestToken`: the same token again answers the rotation it made (or its failure) and
 * rotates nothing; a token naming a version no rotation made is ResourceExistsException.
 *
 * @example
 * ```ts
 * await rotateSecret(deps, { name: 'db' }, { token, lambdaArn, rules, immediately: true, by, allows });
 * ```
 */
export async function rotateSecret(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  input: RotateSecretInput,
): Promise<Record<string, unknown>> {
  const rotation = rotationOf(deps);
  const found = await findSecret(deps, ref);
  const { name, meta } = found;
  const secret = engineSecret(deps, name);
  if (input.token !== undefined) {
    const earlier = await runOfVersionId(rotation.store, secret, input.token);
    if (earlier !== undefined) return answerOfRun(found, earlier, input.token);
    if (versionOfId(meta, input.token) !== undefined)
      throw new AwsError(
        'ResourceExistsException',
        'A version with this ClientRequestToken already exists and was not made by a rotation.',
      );
  }
  // The request's rotator and rules over the policy in force, written at the revision read: a
  // concurrent policy write makes this run again on the fresh policy (none is lost).
  await rotation.store.updatePolicy(secret, async (existing) => {
    const policy = await policyOfRequest(deps, rotation, name, existing, input);
    if (input.immediately && (existing?.approvals ?? 0) > 0)
      throw invalidRequest(
        'Rotations of this secret need two-person approval: ask through sys/rotate-secret (custos rotate), not RotateSecret.',
      );
    if (rotationPending(meta) || (await rotation.store.readRun(secret))?.state === 'running')
      throw inProgress();
    return policy;
  });
  const engineRef = { mount: deps.site.mount, key: name };
  if (!input.immediately) {
    const plan = await rotation.engine.rotate(engineRef, { by: input.by, dryRun: true });
    if (plan.result !== 'planned')
      throw invalidRequest(
        `The rotation's dry run failed (rotation is enabled; nothing was written): ${plan.error ?? 'no reason recorded'}`,
      );
    return { ARN: found.arn, Name: name };
  }
  let result: RotationResult;
  try {
    result = await rotation.engine.rotate(engineRef, {
      by: input.by,
      reason: 'RotateSecret',
      ...(input.token === undefined ? {} : { versionId: input.token }),
    });
  } catch (err) {
    if (isServerError(err, 'ERR_ROTATION_IN_PROGRESS')) throw inProgress();
    throw err;
  }
  const state = result.result === 'failed' ? 'failed' : result.result;
  return answerOfRun(found, { ...result, state }, input.token ?? result.id);
}

/** Whether AWSPENDING is on a version that is not AWSCURRENT (a rotation not finished). */
function rotationPending(meta: KeyMetadata): boolean {
  const pending = versionOfStage(meta, PENDING_LABEL);
  return pending !== undefined && pending !== versionOfStage(meta, CURRENT_LABEL);
}

/** The policy RotateSecret writes: the request's rotator and rules over the policy in force. */
async function policyOfRequest(
  deps: SecretsManagerDeps,
  rotation: SecretsRotationDeps,
  name: string,
  existing: RotationPolicy | undefined,
  input: RotateSecretInput,
): Promise<RotationPolicy> {
  const rotatorName =
    input.lambdaArn === undefined || input.lambdaArn === null
      ? existing?.rotator
      : rotatorOfArn(deps.site, input.lambdaArn);
  if (rotatorName === undefined)
    throw invalidRequest(
      `No rotation function is associated with this secret: give RotationLambdaARN naming a custos rotator (${arnOfRotator(deps.site, 'random')}).`,
    );
  const rotator = rotation.rotators.get(rotatorName);
  if (rotator === undefined)
    throw invalidParameter(
      `RotationLambdaARN names the rotator ${rotatorName}, which this server does not have (available: ${rotation.rotators.names().join(', ')})`,
    );
  let rules: RulesSchedule;
  if (input.rules !== undefined && input.rules !== null) rules = scheduleOfRules(input.rules);
  else if (existing !== undefined)
    rules = {
      schedule: existing.schedule,
      ...(existing.window === undefined ? {} : { window: existing.window }),
    };
  else
    throw invalidParameter('RotationRules are required: this secret has no rotation schedule yet');
  const settings =
    existing?.rotator === rotatorName
      ? existing.settings
      : await defaultSettings(deps, name, rotatorName);
  try {
    rotator.checkSettings(settings);
  } catch (err) {
    if (isCustosError(err))
      throw invalidParameter(`The ${rotatorName} rotator's settings: ${err.message}`);
    throw err;
  }
  // The rotation may later run with the server's rights (the scheduler): what it changes
  // outside the secret is judged now, against the caller, as sys/rotation judges a writer.
  for (const right of rotator.requiredRights?.(settings) ?? [])
    if (!input.allows(right.path, right.capability))
      throw new AwsError('AccessDeniedException', 'permission denied');
  const nowMs = deps.now();
  let policy: RotationPolicy;
  try {
    policy = policyOf(
      {
        ...(existing?.type === undefined ? {} : { type: existing.type }),
        rotator: rotatorName,
        schedule: formatSchedule(rules.schedule),
        ...(rules.window === undefined ? {} : { window: rules.window }),
        grace_period: existing?.grace_period ?? periodOf(rules.schedule, nowMs),
        automatic: true,
        notify_before: existing?.notify_before ?? 0,
        settings,
        ...(existing?.approvals === undefined ? {} : { approvals: existing.approvals }),
        ...(existing?.approval_ttl === undefined ? {} : { approval_ttl: existing.approval_ttl }),
      },
      new Date(nowMs).toISOString(),
    );
  } catch (err) {
    if (isCustosError(err)) throw invalidParameter(`RotationRules: ${err.message}`);
    throw err;
  }
  // Rewriting a policy keeps when it was first written: the schedule counts from there.
  return existing === undefined ? policy : { ...policy, created_time: existing.created_time };
}

/**
 * CancelRotateSecret: turns automatic rotation off (the policy stays, `automatic: false`, so
 * RotateSecret turns it on again). As in AWS, labels are left as they are: a version holding
 * AWSPENDING keeps it, and its id is answered as `VersionId` for the caller to clean up.
 *
 * @example
 * ```ts
 * await cancelRotateSecret(deps, { name: 'db' });
 * ```
 */
export async function cancelRotateSecret(
  deps: SecretsManagerDeps,
  ref: SecretRef,
): Promise<Record<string, unknown>> {
  const rotation = rotationOf(deps);
  const { name, meta, arn } = await findSecret(deps, ref);
  const secret = engineSecret(deps, name);
  // At the revision read: a policy written meanwhile is turned off, not overwritten.
  await rotation.store.updatePolicy(secret, (policy) =>
    policy?.automatic === true ? { ...policy, automatic: false } : undefined,
  );
  const pending = versionOfStage(meta, PENDING_LABEL);
  return {
    ARN: arn,
    Name: name,
    ...(rotationPending(meta) && pending !== undefined
      ? { VersionId: versionIdOf(meta, pending) }
      : {}),
  };
}

/**
 * The rotation members of DescribeSecret and ListSecrets: `RotationEnabled` (a policy that
 * rotates automatically), `RotationLambdaARN` (its rotator), `RotationRules`,
 * `LastRotatedDate` (the last successful rotation's end) and `NextRotationDate`.
 */
export async function rotationMembers(
  deps: SecretsManagerDeps,
  name: string,
): Promise<Record<string, unknown>> {
  if (deps.rotation === undefined) return { RotationEnabled: false };
  const secret = engineSecret(deps, name);
  const policy = await deps.rotation.store.readPolicy(secret);
  if (policy === undefined) return { RotationEnabled: false };
  const last = lastSucceeded(await deps.rotation.store.history(secret));
  return {
    RotationEnabled: policy.automatic,
    RotationLambdaARN: arnOfRotator(deps.site, policy.rotator),
    RotationRules: rulesOfPolicy(policy),
    ...(last === undefined
      ? {}
      : { LastRotatedDate: epochOf(last.ended_time ?? last.started_time) }),
    ...(policy.automatic ? { NextRotationDate: dueTime(policy, last) / 1000 } : {}),
  };
}
