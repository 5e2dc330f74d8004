import type { Capability } from '../policy/policy-parse.js';
import { AwsError, invalidParameter, invalidRequest } from './aws-error.js';
import {
  optionalBool,
  optionalInt,
  optionalString,
  optionalStringList,
  requiredString,
  tagList,
} from './aws-fields.js';
import { getRandomPassword } from './random-password.js';
import {
  dataPathOf,
  metadataPathOf,
  newSecretName,
  rotateSecretPathOf,
  rotationPolicyPathOf,
  type SecretsManagerSite,
  secretRefOf,
} from './secret-id.js';
import { filtersOf, listMatching, listSecrets, listSecretVersionIds } from './secret-listing.js';
import { cancelRotateSecret, rotateSecret, rotationMembers } from './secret-rotation.js';
import { tagResource, untagResource, updateSecretVersionStage } from './secret-stages.js';
import { secretValueOf } from './secret-value.js';
import { clientTokenOf } from './secret-versions.js';
import {
  createSecret,
  deleteSecret,
  describeSecret,
  getSecretValue,
  putSecretValue,
  restoreSecret,
  type SecretsManagerDeps,
  updateSecret,
} from './secrets-manager.js';

/** One check the ACL makes before an operation runs: a KV path and a capability. */
export interface Judged {
  readonly path: string;
  readonly operation: Capability;
}

/** What an operation runs with: the engine's deps, the caller's ACL (per-item checks) and name. */
export interface OperationContext {
  readonly deps: SecretsManagerDeps;
  readonly allows: (path: string, capability: Capability) => boolean;
  /** Who calls, as a rotation's history records it (`aws-access-key:<access key id>`). */
  readonly caller: string;
}

/**
 * One Secrets Manager operation: the checks the boundary makes (`judge`, read from the body
 * without storage; the first is what the audit log records) and what it does.
 */
export interface AwsOperation {
  judge(body: Record<string, unknown>, site: SecretsManagerSite): readonly Judged[];
  run(ctx: OperationContext, body: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** The path GetRandomPassword is judged on: it touches no secret. */
export const RANDOM_PASSWORD_PATH = 'aws/random-password';

const nameOf = (body: Record<string, unknown>, site: SecretsManagerSite) =>
  secretRefOf(site, body.SecretId).name;
const onData =
  (operation: Capability) => (body: Record<string, unknown>, site: SecretsManagerSite) => [
    { path: dataPathOf(site, nameOf(body, site)), operation },
  ];
const onMetadata =
  (operation: Capability) => (body: Record<string, unknown>, site: SecretsManagerSite) => [
    { path: metadataPathOf(site, nameOf(body, site)), operation },
  ];
const ref = (ctx: OperationContext, body: Record<string, unknown>) =>
  secretRefOf(ctx.deps.site, body.SecretId);
const stagesOf = (value: unknown) => optionalStringList(value, 'VersionStages', 20);
const maxResultsOf = (value: unknown) => optionalInt(value, 'MaxResults', 1, 100) ?? 100;

/** The operations served, by the name in `X-Amz-Target: secretsmanager.<name>`. */
export const OPERATIONS: Readonly<Record<string, AwsOperation>> = {
  CreateSecret: {
    judge: (body, site) => [
      { path: dataPathOf(site, newSecretName(body.Name)), operation: 'create' },
    ],
    run: (ctx, body) =>
      createSecret(ctx.deps, {
        name: newSecretName(body.Name),
        token: clientTokenOf(body.ClientRequestToken),
        value: secretValueOf(body),
        attributes: {
          ...(body.Description === undefined
            ? {}
            : { description: optionalString(body.Description, 'Description', 2048) as string }),
          ...(body.KmsKeyId === undefined
            ? {}
            : { kms_key_id: optionalString(body.KmsKeyId, 'KmsKeyId', 2048) as string }),
          ...(body.Tags === undefined ? {} : { tags: tagList(body.Tags) }),
        },
      }),
  },
  GetSecretValue: {
    judge: onData('read'),
    run: (ctx, body) =>
      getSecretValue(ctx.deps, ref(ctx, body), {
        versionId: optionalString(body.VersionId, 'VersionId', 64, 32),
        stage: optionalString(body.VersionStage, 'VersionStage', 256, 1),
      }),
  },
  PutSecretValue: {
    judge: onData('update'),
    run: (ctx, body) => {
      const value = secretValueOf(body);
      if (value === undefined)
        throw invalidRequest('You must provide SecretString or SecretBinary.');
      return putSecretValue(ctx.deps, ref(ctx, body), {
        token: clientTokenOf(body.ClientRequestToken),
        value,
        stages: stagesOf(body.VersionStages),
      });
    },
  },
  UpdateSecret: {
    judge: (body, site) => [
      { path: metadataPathOf(site, nameOf(body, site)), operation: 'update' },
      ...(secretValueOf(body) === undefined
        ? []
        : [{ path: dataPathOf(site, nameOf(body, site)), operation: 'update' as const }]),
    ],
    run: (ctx, body) =>
      updateSecret(ctx.deps, ref(ctx, body), {
        token: clientTokenOf(body.ClientRequestToken),
        value: secretValueOf(body),
        description: optionalString(body.Description, 'Description', 2048),
        kmsKeyId: optionalString(body.KmsKeyId, 'KmsKeyId', 2048),
      }),
  },
  DescribeSecret: {
    judge: onMetadata('read'),
    run: async (ctx, body) => {
      const described = await describeSecret(ctx.deps, ref(ctx, body));
      return { ...described, ...(await rotationMembers(ctx.deps, described.Name)) };
    },
  },
  ListSecrets: {
    judge: (_body, site) => [{ path: `${site.mount}/metadata/`, operation: 'list' }],
    run: async (ctx, body) => {
      const order = optionalString(body.SortOrder, 'SortOrder', 4);
      if (order !== undefined && order !== 'asc' && order !== 'desc')
        throw invalidParameter('SortOrder must be asc or desc');
      // Listed by name (AWS's default is the creation date): other orders are not served.
      const sortBy = optionalString(body.SortBy, 'SortBy', 32);
      if (sortBy !== undefined && sortBy !== 'name')
        throw invalidParameter('SortBy: this server lists secrets by name only (SortBy name)');
      const listed = await listSecrets(ctx.deps, {
        filters: filtersOf(body.Filters),
        maxResults: maxResultsOf(body.MaxResults),
        nextToken: optionalString(body.NextToken, 'NextToken', 4096, 1),
        includeMarked: optionalBool(body.IncludePlannedDeletion, 'IncludePlannedDeletion') ?? false,
        visible: (name) => ctx.allows(metadataPathOf(ctx.deps.site, name), 'read'),
        descending: order === 'desc',
      });
      const SecretList = [];
      for (const entry of listed.SecretList)
        SecretList.push({ ...entry, ...(await rotationMembers(ctx.deps, entry.Name)) });
      return { ...listed, SecretList };
    },
  },
  DeleteSecret: {
    judge: onMetadata('delete'),
    run: (ctx, body) => {
      const force = optionalBool(body.ForceDeleteWithoutRecovery, 'ForceDeleteWithoutRecovery');
      const days = optionalInt(body.RecoveryWindowInDays, 'RecoveryWindowInDays', 7, 30);
      if (force === true && days !== undefined)
        throw invalidParameter(
          "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        );
      return deleteSecret(ctx.deps, ref(ctx, body), {
        force: force === true,
        recoveryWindowDays: days ?? 30,
      });
    },
  },
  RestoreSecret: {
    judge: onMetadata('update'),
    run: (ctx, body) => restoreSecret(ctx.deps, ref(ctx, body)),
  },
  ListSecretVersionIds: {
    judge: onMetadata('read'),
    run: (ctx, body) =>
      listSecretVersionIds(ctx.deps, ref(ctx, body), {
        maxResults: maxResultsOf(body.MaxResults),
        nextToken: optionalString(body.NextToken, 'NextToken', 4096, 1),
        includeDeprecated: optionalBool(body.IncludeDeprecated, 'IncludeDeprecated') ?? false,
      }),
  },
  UpdateSecretVersionStage: {
    // Moving AWSCURRENT changes the value served (back to an old one, perhaps a leaked one): a
    // write of the secret's data as much as of its metadata.
    judge: (body, site) => [
      { path: metadataPathOf(site, nameOf(body, site)), operation: 'update' },
      { path: dataPathOf(site, nameOf(body, site)), operation: 'update' },
    ],
    run: (ctx, body) =>
      updateSecretVersionStage(ctx.deps, ref(ctx, body), {
        stage: requiredString(body.VersionStage, 'VersionStage', 256),
        removeFrom: optionalString(body.RemoveFromVersionId, 'RemoveFromVersionId', 64, 32),
        moveTo: optionalString(body.MoveToVersionId, 'MoveToVersionId', 64, 32),
      }),
  },
  TagResource: {
    judge: onMetadata('update'),
    run: (ctx, body) => tagResource(ctx.deps, ref(ctx, body), tagList(body.Tags)),
  },
  UntagResource: {
    judge: onMetadata('update'),
    run: (ctx, body) =>
      untagResource(
        ctx.deps,
        ref(ctx, body),
        optionalStringList(body.TagKeys, 'TagKeys', 50, 128) ?? [],
      ),
  },
  GetRandomPassword: {
    judge: () => [{ path: RANDOM_PASSWORD_PATH, operation: 'update' }],
    run: async (_ctx, body) => getRandomPassword(body),
  },
  BatchGetSecretValue: {
    // Each secret is judged on its own (a denied one is an entry of `Errors`), as AWS does.
    judge: () => [],
    run: (ctx, body) => batchGetSecretValue(ctx, body),
  },
  RotateSecret: {
    // It writes the secret's rotation policy and runs the rotation: judged as writing the
    // value, writing the policy (sys/rotation) and asking for a rotation (sys/rotate-secret).
    judge: (body, site) => [
      ...onData('update')(body, site),
      { path: rotationPolicyPathOf(site, nameOf(body, site)), operation: 'update' },
      { path: rotateSecretPathOf(site, nameOf(body, site)), operation: 'update' },
    ],
    run: (ctx, body) =>
      rotateSecret(ctx.deps, ref(ctx, body), {
        token: clientTokenOf(body.ClientRequestToken),
        lambdaArn: body.RotationLambdaARN,
        rules: body.RotationRules,
        immediately: optionalBool(body.RotateImmediately, 'RotateImmediately') ?? true,
        by: ctx.caller,
        allows: ctx.allows,
      }),
  },
  CancelRotateSecret: {
    judge: (body, site) => [
      { path: rotationPolicyPathOf(site, nameOf(body, site)), operation: 'update' },
    ],
    run: (ctx, body) => cancelRotateSecret(ctx.deps, ref(ctx, body)),
  },
};

/** BatchGetSecretValue: by `SecretIdList` (up to 20) or by `Filters` (a page of ListSecrets). */
async function batchGetSecretValue(ctx: OperationContext, body: Record<string, unknown>) {
  const ids = optionalStringList(body.SecretIdList, 'SecretIdList', 20, 2048);
  const filters = body.Filters === undefined ? undefined : filtersOf(body.Filters);
  if ((ids === undefined) === (filters === undefined))
    throw invalidParameter('Give either SecretIdList or Filters');
  let names: string[];
  let nextToken: string | undefined;
  if (ids !== undefined) names = ids;
  else {
    // Filters list the mount: judged as ListSecrets is, so no name the caller may not list
    // (or describe) shows up, not even in `Errors`.
    const { site } = ctx.deps;
    if (!ctx.allows(`${site.mount}/metadata/`, 'list'))
      throw new AwsError('AccessDeniedException', 'permission denied', 400);
    const page = await listMatching(ctx.deps, {
      filters: filters ?? [],
      maxResults: optionalInt(body.MaxResults, 'MaxResults', 1, 20) ?? 20,
      nextToken: optionalString(body.NextToken, 'NextToken', 4096, 1),
      includeMarked: false,
      visible: (name) => ctx.allows(metadataPathOf(site, name), 'read'),
    });
    names = page.secrets.map((s) => s.name);
    nextToken = page.nextToken;
  }
  const SecretValues: Record<string, unknown>[] = [];
  const Errors: Record<string, unknown>[] = [];
  for (const id of names) {
    try {
      const secretRef = secretRefOf(ctx.deps.site, id);
      if (!ctx.allows(dataPathOf(ctx.deps.site, secretRef.name), 'read'))
        throw new AwsError('AccessDeniedException', 'permission denied', 400);
      SecretValues.push(await getSecretValue(ctx.deps, secretRef, {}));
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      Errors.push({ SecretId: id, ErrorCode: err.type, Message: err.message });
    }
  }
  return { SecretValues, Errors, ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}
