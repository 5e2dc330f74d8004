import { CustosError } from '@custos/core/errors';
import { formatDuration } from '../lib/duration.js';
import { ownValue, setOwn } from '../lib/own-property.js';
import { CURRENT_LABEL, dropVersionRefs, labelsOf, PENDING_LABEL, setLabel } from './kv-labels.js';

/** Vault keeps 10 versions unless configured otherwise. */
export const DEFAULT_MAX_VERSIONS = 10;

/** Mount-wide settings (`secret/config`). */
export interface KvConfig {
  max_versions: number;
  cas_required: boolean;
  /** Seconds; 0 = never. */
  delete_version_after: number;
}

export const DEFAULT_KV_CONFIG: KvConfig = {
  max_versions: 0,
  cas_required: false,
  delete_version_after: 0,
};

/** One version's bookkeeping. Times are ISO strings; '' = not deleted. */
export interface VersionMetadata {
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

/** A key's metadata entry: settings and every live version's bookkeeping. */
export interface KeyMetadata {
  created_time: string;
  updated_time: string;
  current_version: number;
  oldest_version: number;
  max_versions: number;
  cas_required: boolean;
  delete_version_after: number;
  custom_metadata: Record<string, string> | null;
  versions: Record<string, VersionMetadata>;
  /**
   * Version labels: label → version (kv-labels.ts). Absent in metadata written before labels
   * existed: the current version then holds `AWSCURRENT`.
   */
  labels?: Record<string, number>;
  /** Version ids chosen by clients (AWS `ClientRequestToken` / `VersionId`) → version. */
  version_ids?: Record<string, number>;
  /** What only the Secrets Manager API reads and writes (docs/aws.md). */
  aws?: SecretAttributes;
}

/** A secret's Secrets Manager attributes, kept in its KV metadata. */
export interface SecretAttributes {
  description?: string;
  kms_key_id?: string;
  tags?: { Key: string; Value: string }[];
  /** ISO time from which the secret is deleted for good (`DeleteSecret` with a recovery window). */
  deletion_date?: string;
  /** ISO time `DeleteSecret` was called. */
  deleted_date?: string;
}

/** How a new version is labelled and identified (KV writes: current, no client id). */
export interface NewVersionOptions {
  /** Labels the new version takes (default `['AWSCURRENT']`). */
  readonly labels?: readonly string[];
  /** The client's id for the version (AWS `ClientRequestToken`). */
  readonly versionId?: string;
}

/** A new, empty metadata entry. */
export function emptyMetadata(now: string): KeyMetadata {
  return {
    created_time: now,
    updated_time: now,
    current_version: 0,
    oldest_version: 0,
    max_versions: 0,
    cas_required: false,
    delete_version_after: 0,
    custom_metadata: null,
    versions: {},
  };
}

/** Whether a version is soft-deleted at `now` (its deletion time has passed). */
export function isDeleted(version: VersionMetadata, nowMs: number): boolean {
  return version.deletion_time !== '' && Date.parse(version.deletion_time) <= nowMs;
}

/** The deletion time a new version gets from `delete_version_after` (key's or mount's, the shorter). */
export function scheduledDeletion(createdMs: number, config: KvConfig, meta: KeyMetadata): string {
  const limits = [config.delete_version_after, meta.delete_version_after].filter((s) => s > 0);
  if (limits.length === 0) return '';
  return new Date(createdMs + Math.min(...limits) * 1000).toISOString();
}

/**
 * Adds version `current_version + 1` and returns the version numbers that fall out of the
 * window of kept versions (`max_versions`: the larger of key and mount, as Vault does; 10 when
 * neither is set). Their data entries must be deleted in the same transaction. The new version
 * takes `options.labels` (default: it becomes `AWSCURRENT`, its predecessor `AWSPREVIOUS`).
 */
export function addVersion(
  meta: KeyMetadata,
  version: VersionMetadata,
  config: KvConfig,
  options: NewVersionOptions = {},
): number[] {
  meta.labels = labelsOf(meta); // before the count moves: legacy metadata labels its current
  meta.current_version += 1;
  meta.versions[String(meta.current_version)] = version;
  for (const label of options.labels ?? [CURRENT_LABEL])
    setLabel(meta, label, meta.current_version);
  if (options.versionId !== undefined) {
    meta.version_ids = { ...meta.version_ids };
    setOwn(meta.version_ids, options.versionId, meta.current_version);
  }
  meta.updated_time = version.created_time;
  const configured = Math.max(meta.max_versions, config.max_versions);
  const keep = configured > 0 ? configured : DEFAULT_MAX_VERSIONS;
  const trimmed: number[] = [];
  if (meta.current_version - meta.oldest_version >= keep) {
    const lastToDrop = meta.current_version - keep;
    // The version readers get (`AWSCURRENT`) and one a rotation is setting up (`AWSPENDING`)
    // are never trimmed, however many versions came after them (rolled-back rotations write
    // versions without moving `current`); they go once their label has moved on.
    const held = new Set([labelsOf(meta)[CURRENT_LABEL], labelsOf(meta)[PENDING_LABEL]]);
    for (const key of Object.keys(meta.versions)) {
      const v = Number(key);
      if (v <= lastToDrop && !held.has(v)) {
        delete meta.versions[key];
        trimmed.push(v);
      }
    }
    trimmed.sort((a, b) => a - b);
    meta.oldest_version = lastToDrop + 1;
  }
  dropVersionRefs(meta, trimmed);
  return trimmed;
}

/** The metadata as Vault's `GET metadata/:path` returns it. */
export function metadataResponse(meta: KeyMetadata): Record<string, unknown> {
  return {
    cas_required: meta.cas_required,
    created_time: meta.created_time,
    current_version: meta.current_version,
    custom_metadata: meta.custom_metadata,
    delete_version_after: formatDuration(meta.delete_version_after),
    max_versions: meta.max_versions,
    oldest_version: meta.oldest_version,
    updated_time: meta.updated_time,
    versions: meta.versions,
  };
}

/** One version's metadata as data reads and writes return it. */
export function versionResponse(meta: KeyMetadata, version: number): Record<string, unknown> {
  const v = meta.versions[String(version)] as VersionMetadata;
  return {
    created_time: v.created_time,
    custom_metadata: meta.custom_metadata,
    deletion_time: v.deletion_time,
    destroyed: v.destroyed,
    version,
  };
}

const MAX_CUSTOM_KEYS = 64;
const MAX_CUSTOM_KEY_LENGTH = 128;
const MAX_CUSTOM_VALUE_LENGTH = 512;
// biome-ignore lint/suspicious/noControlCharactersInRegex: printable-only is the rule
const UNPRINTABLE = /[\u0000-\u001f\u007f]/;

/** Validates `custom_metadata` with Vault's limits; `allowNull` for PATCH (null removes a key). */
export function parseCustomMetadata(
  raw: unknown,
  allowNull: boolean,
): Record<string, string | null> {
  const prefix = 'custom_metadata validation failed';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CustosError('ERR_INVALID_REQUEST', `${prefix}: must be an object of string values`);
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length > MAX_CUSTOM_KEYS)
    problems.push(`${prefix}: ${entries.length} keys, at most ${MAX_CUSTOM_KEYS}`);
  const out: Record<string, string | null> = {};
  for (const [key, value] of entries) {
    if (value === null && allowNull) {
      setOwn(out, key, null);
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      problems.push(`${prefix}: value for key "${key.slice(0, 64)}" must be a string`);
      continue;
    }
    const text = String(value);
    if (key.length === 0 || key.length > MAX_CUSTOM_KEY_LENGTH) {
      problems.push(
        `${prefix}: length of key "${key.slice(0, 64)}" must be 1..${MAX_CUSTOM_KEY_LENGTH}`,
      );
    }
    if (text.length === 0 || text.length > MAX_CUSTOM_VALUE_LENGTH) {
      problems.push(
        `${prefix}: length of value for key "${key.slice(0, 64)}" must be 1..${MAX_CUSTOM_VALUE_LENGTH}`,
      );
    }
    if (UNPRINTABLE.test(key))
      problems.push(`${prefix}: key "${key.slice(0, 64)}" contains unprintable characters`);
    if (UNPRINTABLE.test(text))
      problems.push(
        `${prefix}: value for key "${key.slice(0, 64)}" contains unprintable characters`,
      );
    setOwn(out, key, text);
  }
  if (problems.length > 0) throw new CustosError('ERR_INVALID_REQUEST', problems.join('; '));
  return out;
}

/** JSON merge patch (RFC 7396): `null` removes a member, objects merge, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as object) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    // Own properties only: a `__proto__` (or `constructor`) member is a member like any other.
    if (value === null) delete base[key];
    else setOwn(base, key, mergePatch(ownValue(base, key), value));
  }
  return base;
}

/**
 * Applies a PATCH's `custom_metadata` (null removes a key) to the stored one; null when none
 * is left.
 *
 * @example
 * ```ts
 * mergeCustomMetadata({ a: '1', b: '2' }, { a: null, c: '3' }); // { b: '2', c: '3' }
 * ```
 */
export function mergeCustomMetadata(
  stored: Record<string, string> | null | undefined,
  patch: Record<string, string | null>,
): Record<string, string> | null {
  const merged: Record<string, string> = { ...(stored ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else setOwn(merged, key, value);
  }
  return Object.keys(merged).length > 0 ? merged : null;
}

/** The structure of `data` with every leaf replaced by null, to `depth` levels (0 = all). */
export function subkeysOf(data: unknown, depth: number, level = 1): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => {
      const nested = typeof value === 'object' && value !== null && !Array.isArray(value);
      return [
        key,
        nested && (depth === 0 || level < depth) ? subkeysOf(value, depth, level + 1) : null,
      ];
    }),
  );
}
