import { isServerError } from '../errors.js';
import { type KvEngine, VERSION_ID_TAKEN, type WriteResult } from '../kv/kv-engine.js';
import { CURRENT_LABEL, labelsOfVersion } from '../kv/kv-labels.js';
import type { KeyMetadata, SecretAttributes } from '../kv/kv-metadata.js';
import {
  AwsError,
  invalidParameter,
  invalidRequest,
  markedForDeletion,
  notFound,
} from './aws-error.js';
import { arnOf, arnSuffixOf, type SecretRef, type SecretsManagerSite } from './secret-id.js';
import type { SecretsRotationDeps } from './secret-rotation.js';
import { dataOfValue, type SecretValue, valueOfData } from './secret-value.js';
import {
  epochOf,
  isReadable,
  versionIdOf,
  versionIdsToStages,
  versionOfId,
  versionOfStage,
} from './secret-versions.js';

/**
 * What the Secrets Manager operations work on: the KV engine of the mount, the clock, and the
 * rotation engine (RotateSecret, CancelRotateSecret, the rotation members of DescribeSecret).
 */
export interface SecretsManagerDeps {
  readonly kv: KvEngine;
  readonly site: SecretsManagerSite;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly rotation?: SecretsRotationDeps;
}

/** A secret found by its `SecretId`, alive (not purged). */
export interface FoundSecret {
  readonly name: string;
  readonly meta: KeyMetadata;
  readonly arn: string;
}

const resourceExists = (message: string) => new AwsError('ResourceExistsException', message);

/** Whether the secret is marked for deletion. */
export const isMarked = (meta: KeyMetadata) => meta.aws?.deletion_date !== undefined;

/**
 * Finds a secret by name or ARN; a secret whose recovery window has passed is deleted for good
 * here (its KV key with it) and is not found. `allowMarked`: DescribeSecret, RestoreSecret and
 * DeleteSecret work on a secret marked for deletion; nothing else does.
 *
 * @example
 * ```ts
 * const { name, meta, arn } = await findSecret(deps, { name: 'db' });
 * ```
 */
export async function findSecret(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  allowMarked = false,
): Promise<FoundSecret> {
  const meta = await deps.kv.readMetadata(ref.name);
  if (meta === undefined) throw notFound();
  if (ref.arnSuffix !== undefined && ref.arnSuffix !== arnSuffixOf(ref.name, meta))
    throw notFound();
  const deletion = meta.aws?.deletion_date;
  if (deletion !== undefined && Date.parse(deletion) <= deps.now()) {
    await deps.kv.deleteMetadata(ref.name);
    throw notFound();
  }
  if (!allowMarked && isMarked(meta)) throw markedForDeletion();
  return { name: ref.name, meta, arn: arnOf(deps.site, ref.name, meta) };
}

/** The checks a write runs in its transaction: the ARN still names this secret, not marked. */
function writeGuard(deps: SecretsManagerDeps, ref: SecretRef) {
  return (meta: KeyMetadata) => {
    if (ref.arnSuffix !== undefined && ref.arnSuffix !== arnSuffixOf(ref.name, meta))
      throw notFound();
    const deletion = meta.aws?.deletion_date;
    if (deletion !== undefined && Date.parse(deletion) <= deps.now()) throw notFound();
    if (deletion !== undefined) throw markedForDeletion();
  };
}

/** Maps the KV engine's refusals of a version write to AWS's. */
function awsWriteError(err: unknown): unknown {
  if (isServerError(err, 'ERR_KEY_EXISTS') && err.message === VERSION_ID_TAKEN)
    return resourceExists(
      'A version with this ClientRequestToken already exists and holds a different value.',
    );
  if (isServerError(err, 'ERR_NOT_FOUND')) return notFound();
  return err;
}

/** The answer to a value write: the secret, and the version written. */
function written(deps: SecretsManagerDeps, name: string, result: WriteResult) {
  return {
    ARN: arnOf(deps.site, name, result.meta),
    Name: name,
    VersionId: versionIdOf(result.meta, result.version),
    VersionStages: labelsOfVersion(result.meta, result.version),
  };
}

/** CreateSecret: a new secret, with a first version when a value is given. */
export async function createSecret(
  deps: SecretsManagerDeps,
  input: {
    name: string;
    token: string | undefined;
    value: SecretValue | undefined;
    attributes: SecretAttributes;
  },
): Promise<Record<string, unknown>> {
  const { name, token, value, attributes } = input;
  if (value === undefined) {
    if (!(await deps.kv.createKey(name, { aws: attributes })))
      return replayedCreate(deps, name, token, value);
    const meta = (await deps.kv.readMetadata(name)) as KeyMetadata;
    return { ARN: arnOf(deps.site, name, meta), Name: name };
  }
  try {
    const result = await deps.kv.write(name, dataOfValue(value), undefined, {
      mustNotExist: true,
      ...(token === undefined ? {} : { versionId: token }),
      prepare: (meta) => {
        meta.aws = attributes;
      },
    });
    const { VersionStages: _, ...out } = written(deps, name, result);
    return out;
  } catch (err) {
    if (!isServerError(err, 'ERR_KEY_EXISTS')) throw err;
    return replayedCreate(deps, name, token, value);
  }
}

/** A CreateSecret retried with the same token and value answers as the first did. */
async function replayedCreate(
  deps: SecretsManagerDeps,
  name: string,
  token: string | undefined,
  value: SecretValue | undefined,
): Promise<Record<string, unknown>> {
  const meta = await deps.kv.readMetadata(name);
  if (meta !== undefined && isMarked(meta))
    throw invalidRequest(
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  const version = meta && token !== undefined ? versionOfId(meta, token) : undefined;
  if (meta !== undefined && value !== undefined && version !== undefined) {
    const found = await deps.kv.read(name, version);
    if (found.kind === 'ok' && JSON.stringify(found.data) === JSON.stringify(dataOfValue(value)))
      return { ARN: arnOf(deps.site, name, meta), Name: name, VersionId: token };
  }
  throw resourceExists(`The operation failed because the secret ${name} already exists.`);
}

/** GetSecretValue: the version a VersionId or VersionStage names (default AWSCURRENT). */
export async function getSecretValue(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  select: { versionId?: string | undefined; stage?: string | undefined },
): Promise<Record<string, unknown>> {
  const { name, meta, arn } = await findSecret(deps, ref);
  const byId = select.versionId === undefined ? undefined : versionOfId(meta, select.versionId);
  if (select.versionId !== undefined && byId === undefined)
    throw new AwsError(
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value for VersionId.",
    );
  const stage = select.stage ?? (byId === undefined ? CURRENT_LABEL : undefined);
  const byStage = stage === undefined ? undefined : versionOfStage(meta, stage);
  if (stage !== undefined && byStage === undefined)
    throw new AwsError(
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value for staging label.",
    );
  if (byId !== undefined && byStage !== undefined && byId !== byStage)
    throw invalidParameter('VersionId and VersionStage name different versions of the secret.');
  const version = (byId ?? byStage) as number;
  const found = isReadable(meta, version, deps.now())
    ? await deps.kv.read(name, version)
    : undefined;
  if (found?.kind !== 'ok')
    throw new AwsError(
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value: the version was deleted.",
    );
  return {
    ARN: arn,
    Name: name,
    VersionId: versionIdOf(meta, version),
    ...valueOfData(found.data),
    VersionStages: labelsOfVersion(meta, version),
    CreatedDate: epochOf((meta.versions[String(version)] as { created_time: string }).created_time),
  };
}

/** PutSecretValue: a new version, labelled `stages` (default AWSCURRENT). */
export async function putSecretValue(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  input: { token: string | undefined; value: SecretValue; stages: readonly string[] | undefined },
): Promise<Record<string, unknown>> {
  try {
    const result = await deps.kv.write(ref.name, dataOfValue(input.value), undefined, {
      mustExist: true,
      labels: input.stages ?? [CURRENT_LABEL],
      ...(input.token === undefined ? {} : { versionId: input.token }),
      prepare: writeGuard(deps, ref),
    });
    return written(deps, ref.name, result);
  } catch (err) {
    throw awsWriteError(err);
  }
}

/** UpdateSecret: description and key id, and a new AWSCURRENT version when a value is given. */
export async function updateSecret(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  input: {
    token: string | undefined;
    value: SecretValue | undefined;
    description: string | undefined;
    kmsKeyId: string | undefined;
  },
): Promise<Record<string, unknown>> {
  const guard = writeGuard(deps, ref);
  const apply = (meta: KeyMetadata) => {
    guard(meta);
    meta.aws = {
      ...meta.aws,
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.kmsKeyId === undefined ? {} : { kms_key_id: input.kmsKeyId }),
    };
  };
  if (input.value === undefined) {
    if (!(await deps.kv.patchMetadata(ref.name, apply))) throw notFound();
    const { name, arn } = await findSecret(deps, ref);
    return { ARN: arn, Name: name };
  }
  try {
    const result = await deps.kv.write(ref.name, dataOfValue(input.value), undefined, {
      mustExist: true,
      ...(input.token === undefined ? {} : { versionId: input.token }),
      prepare: apply,
    });
    const { VersionStages: _, ...out } = written(deps, ref.name, result);
    return out;
  } catch (err) {
    throw awsWriteError(err);
  }
}

/** DescribeSecret (and each entry of ListSecrets): everything but the value. */
export function describe(deps: SecretsManagerDeps, name: string, meta: KeyMetadata) {
  const aws = meta.aws ?? {};
  return {
    ARN: arnOf(deps.site, name, meta),
    Name: name,
    ...(aws.description === undefined ? {} : { Description: aws.description }),
    ...(aws.kms_key_id === undefined ? {} : { KmsKeyId: aws.kms_key_id }),
    RotationEnabled: false,
    LastChangedDate: epochOf(meta.updated_time),
    CreatedDate: epochOf(meta.created_time),
    ...(aws.deleted_date === undefined ? {} : { DeletedDate: epochOf(aws.deleted_date) }),
    Tags: aws.tags ?? [],
    SecretVersionsToStages: versionIdsToStages(meta),
  };
}

/** DescribeSecret. */
export async function describeSecret(deps: SecretsManagerDeps, ref: SecretRef) {
  const { name, meta } = await findSecret(deps, ref, true);
  const { SecretVersionsToStages, ...out } = describe(deps, name, meta);
  return { ...out, VersionIdsToStages: SecretVersionsToStages };
}

/** DeleteSecret: marked for deletion after a recovery window, or deleted now when forced. */
export async function deleteSecret(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  input: { force: boolean; recoveryWindowDays: number },
): Promise<Record<string, unknown>> {
  const { name, arn } = await findSecret(deps, ref, true);
  const nowMs = deps.now();
  if (input.force) {
    await deps.kv.deleteMetadata(name);
    return { ARN: arn, Name: name, DeletionDate: nowMs / 1000 };
  }
  const deletionMs = nowMs + input.recoveryWindowDays * 86_400_000;
  let already: string | undefined;
  const found = await deps.kv.patchMetadata(name, (meta) => {
    writeGuardArn(ref, meta);
    already = meta.aws?.deletion_date;
    if (already !== undefined) return;
    meta.aws = {
      ...meta.aws,
      deleted_date: new Date(nowMs).toISOString(),
      deletion_date: new Date(deletionMs).toISOString(),
    };
  });
  if (!found) throw notFound();
  const deletion = already === undefined ? deletionMs / 1000 : epochOf(already);
  return { ARN: arn, Name: name, DeletionDate: deletion };
}

export function writeGuardArn(ref: SecretRef, meta: KeyMetadata): void {
  if (ref.arnSuffix !== undefined && ref.arnSuffix !== arnSuffixOf(ref.name, meta))
    throw notFound();
}

/** RestoreSecret: cancels a scheduled deletion. */
export async function restoreSecret(deps: SecretsManagerDeps, ref: SecretRef) {
  const { name, arn } = await findSecret(deps, ref, true);
  const found = await deps.kv.patchMetadata(name, (meta) => {
    writeGuardArn(ref, meta);
    if (meta.aws === undefined) return;
    const { deletion_date: _d, deleted_date: _t, ...rest } = meta.aws;
    meta.aws = rest;
  });
  if (!found) throw notFound();
  return { ARN: arn, Name: name };
}
