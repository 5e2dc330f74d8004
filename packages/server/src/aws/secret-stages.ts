import { CURRENT_LABEL, labelsOf, removeLabel, setLabel } from '../kv/kv-labels.js';
import type { KeyMetadata } from '../kv/kv-metadata.js';
import { invalidParameter, markedForDeletion, notFound } from './aws-error.js';
import type { SecretRef } from './secret-id.js';
import { versionIdOf, versionOfId } from './secret-versions.js';
import { findSecret, type SecretsManagerDeps, writeGuardArn } from './secrets-manager.js';

/** Changes a secret's metadata in one transaction (refusing a marked secret); its ARN and name. */
async function changeSecret(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  change: (meta: KeyMetadata) => void,
) {
  const { name, arn } = await findSecret(deps, ref);
  const found = await deps.kv.patchMetadata(name, (meta) => {
    writeGuardArn(ref, meta);
    if (meta.aws?.deletion_date !== undefined) throw markedForDeletion();
    change(meta);
  });
  if (!found) throw notFound();
  return { ARN: arn, Name: name };
}

/**
 * UpdateSecretVersionStage: moves a staging label to `moveTo` (the version holding it must be
 * named in `removeFrom`), or removes it from `removeFrom`. AWSCURRENT is only ever moved; the
 * version it leaves becomes AWSPREVIOUS.
 */
export function updateSecretVersionStage(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  input: { stage: string; removeFrom: string | undefined; moveTo: string | undefined },
) {
  return changeSecret(deps, ref, (meta) => {
    const labels = labelsOf(meta);
    const holder = Object.hasOwn(labels, input.stage) ? labels[input.stage] : undefined;
    const versionOf = (id: string | undefined, field: string) => {
      if (id === undefined) return undefined;
      const version = versionOfId(meta, id);
      if (version === undefined) throw invalidParameter(`${field} names no version of the secret`);
      return version;
    };
    const from = versionOf(input.removeFrom, 'RemoveFromVersionId');
    const to = versionOf(input.moveTo, 'MoveToVersionId');
    if (to !== undefined) {
      if (holder !== undefined && holder !== to && from !== holder)
        throw invalidParameter(
          `The staging label ${input.stage} is attached to version ${versionIdOf(meta, holder)}: name that version in RemoveFromVersionId to move it.`,
        );
      setLabel(meta, input.stage, to);
      return;
    }
    if (from === undefined)
      throw invalidParameter('MoveToVersionId or RemoveFromVersionId is required');
    if (input.stage === CURRENT_LABEL)
      throw invalidParameter('AWSCURRENT can be moved to another version, never removed');
    if (holder !== from)
      throw invalidParameter('The staging label is not attached to RemoveFromVersionId');
    removeLabel(meta, input.stage, from);
  });
}

/** TagResource: adds tags, replacing the values of keys the secret has. */
export async function tagResource(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  tags: readonly { Key: string; Value: string }[],
) {
  await changeSecret(deps, ref, (meta) => {
    const merged = new Map((meta.aws?.tags ?? []).map((t) => [t.Key, t.Value]));
    for (const t of tags) merged.set(t.Key, t.Value);
    if (merged.size > 50) throw invalidParameter('a secret has at most 50 tags');
    meta.aws = { ...meta.aws, tags: [...merged].map(([Key, Value]) => ({ Key, Value })) };
  });
  return {};
}

/** UntagResource: removes the tags with these keys. */
export async function untagResource(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  keys: readonly string[],
) {
  await changeSecret(deps, ref, (meta) => {
    const drop = new Set(keys);
    meta.aws = { ...meta.aws, tags: (meta.aws?.tags ?? []).filter((t) => !drop.has(t.Key)) };
  });
  return {};
}
