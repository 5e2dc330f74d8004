import { CURRENT_LABEL, labelsOf, labelsOfVersion } from '../kv/kv-labels.js';
import { isDeleted, type KeyMetadata } from '../kv/kv-metadata.js';
import { invalidParameter } from './aws-error.js';

/**
 * The `VersionId` of a version no client named (written through the KV API): a fixed UUID
 * shape ending in the version number, which clients may not choose as `ClientRequestToken`.
 */
const KV_VERSION_ID = /^00000000-0000-4000-8000-(\d{12})$/;
const kvVersionId = (version: number) =>
  `00000000-0000-4000-8000-${String(version).padStart(12, '0')}`;

/**
 * A `ClientRequestToken` a request may use as the id of its new version: 32–64 characters,
 * not one of the ids custos gives versions written through KV.
 *
 * @example
 * ```ts
 * clientTokenOf(body.ClientRequestToken); // a UUID from the SDK
 * ```
 */
export function clientTokenOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'string' ||
    value.length < 32 ||
    value.length > 64 ||
    !/^[\x21-\x7e]+$/.test(value)
  )
    throw invalidParameter('ClientRequestToken must be 32 to 64 printable characters');
  if (KV_VERSION_ID.test(value))
    throw invalidParameter('ClientRequestToken may not take the form of a KV version id');
  return value;
}

/** The `VersionId` of `version`. */
export function versionIdOf(meta: KeyMetadata, version: number): string {
  for (const [id, v] of Object.entries(meta.version_ids ?? {})) if (v === version) return id;
  return kvVersionId(version);
}

/** The version a `VersionId` names, if the key has it. */
export function versionOfId(meta: KeyMetadata, versionId: string): number | undefined {
  const ids = meta.version_ids ?? {};
  let version: number | undefined = Object.hasOwn(ids, versionId) ? ids[versionId] : undefined;
  const kv = KV_VERSION_ID.exec(versionId);
  if (version === undefined && kv !== null) version = Number(kv[1]);
  return version !== undefined && meta.versions[String(version)] !== undefined
    ? version
    : undefined;
}

/** The version a label names (AWSCURRENT by default). */
export function versionOfStage(meta: KeyMetadata, stage = CURRENT_LABEL): number | undefined {
  const labels = labelsOf(meta);
  return Object.hasOwn(labels, stage) ? labels[stage] : undefined;
}

/** Whether `version` can be read (not soft-deleted, not destroyed). */
export function isReadable(meta: KeyMetadata, version: number, nowMs: number): boolean {
  const vm = meta.versions[String(version)];
  return vm !== undefined && !vm.destroyed && !isDeleted(vm, nowMs);
}

/** `{ VersionId: stages }` for every labelled version, as DescribeSecret answers. */
export function versionIdsToStages(meta: KeyMetadata): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const versions = new Set(Object.values(labelsOf(meta)));
  for (const version of [...versions].sort((a, b) => a - b)) {
    if (meta.versions[String(version)] === undefined) continue;
    out[versionIdOf(meta, version)] = labelsOfVersion(meta, version);
  }
  return out;
}

/** ISO time → the epoch seconds the JSON protocol carries dates as. */
export const epochOf = (iso: string): number => Date.parse(iso) / 1000;
