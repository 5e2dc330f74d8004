import { ownValue, setOwn } from '../lib/own-property.js';
import type { KeyMetadata } from './kv-metadata.js';

/**
 * The label of the version a key's readers get: AWS's name, so AWS staging labels and custos
 * version labels are one thing (docs/aws.md).
 */
export const CURRENT_LABEL = 'AWSCURRENT';
/** The label the version that loses {@link CURRENT_LABEL} takes. */
export const PREVIOUS_LABEL = 'AWSPREVIOUS';
/** The label a rotation gives the version it is about to make current. */
export const PENDING_LABEL = 'AWSPENDING';

/**
 * The key's version labels (label → version). Metadata written before labels existed has
 * none stored: its current version holds {@link CURRENT_LABEL}.
 *
 * @example
 * ```ts
 * labelsOf(meta)[CURRENT_LABEL]; // 3
 * ```
 */
export function labelsOf(meta: KeyMetadata): Record<string, number> {
  if (meta.labels !== undefined) return meta.labels;
  return meta.current_version > 0 ? { [CURRENT_LABEL]: meta.current_version } : {};
}

/**
 * Moves `label` to `version` (a label names one version at a time). Moving
 * {@link CURRENT_LABEL} gives {@link PREVIOUS_LABEL} to the version that held it.
 *
 * @example
 * ```ts
 * setLabel(meta, CURRENT_LABEL, 4); // 3 becomes AWSPREVIOUS
 * ```
 */
export function setLabel(meta: KeyMetadata, label: string, version: number): void {
  const labels = { ...labelsOf(meta) };
  const before = ownValue(labels, label) as number | undefined;
  setOwn(labels, label, version);
  if (label === CURRENT_LABEL && before !== undefined && before !== version) {
    labels[PREVIOUS_LABEL] = before;
  }
  meta.labels = labels;
}

/**
 * Removes `label` from `version` (nothing when another version holds it). {@link CURRENT_LABEL}
 * is only ever moved, never removed: a key with versions always has a current one.
 */
export function removeLabel(meta: KeyMetadata, label: string, version: number): void {
  const labels = { ...labelsOf(meta) };
  if (ownValue(labels, label) === version) delete labels[label];
  meta.labels = labels;
}

/** The labels `version` holds, sorted. */
export function labelsOfVersion(meta: KeyMetadata, version: number): string[] {
  return Object.entries(labelsOf(meta))
    .filter(([, v]) => v === version)
    .map(([label]) => label)
    .sort();
}

/** Forgets labels and client version ids of versions that no longer exist (trimmed). */
export function dropVersionRefs(meta: KeyMetadata, versions: readonly number[]): void {
  if (versions.length === 0) return;
  const gone = new Set(versions);
  if (meta.labels !== undefined)
    meta.labels = Object.fromEntries(Object.entries(meta.labels).filter(([, v]) => !gone.has(v)));
  if (meta.version_ids !== undefined)
    meta.version_ids = Object.fromEntries(
      Object.entries(meta.version_ids).filter(([, v]) => !gone.has(v)),
    );
}
