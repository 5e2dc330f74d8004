import { CustosError } from '@custos/core/errors';
import { ownValue } from '../lib/own-property.js';
import { CURRENT_LABEL, labelsOf, PENDING_LABEL, PREVIOUS_LABEL } from './kv-labels.js';
import type { KeyMetadata } from './kv-metadata.js';

/**
 * The staging labels of the rotation engine, in custos's names. Each is one of the version
 * labels the Secrets Manager API uses (kv-labels.ts): an AWS client sees `AWSPENDING` on the
 * version custos calls `pending`, and the reverse.
 */
export const STAGES = ['current', 'pending', 'previous'] as const;

/** A staging label, in custos's name. */
export type Stage = (typeof STAGES)[number];

const LABEL_OF_STAGE: Readonly<Record<Stage, string>> = {
  current: CURRENT_LABEL,
  pending: PENDING_LABEL,
  previous: PREVIOUS_LABEL,
};

/**
 * The version label a stage is kept as.
 *
 * @example
 * ```ts
 * labelOfStage('pending'); // 'AWSPENDING'
 * ```
 */
export function labelOfStage(stage: Stage): string {
  return LABEL_OF_STAGE[stage];
}

/**
 * The name a version label is shown by on the KV API: custos's stage name for the three staging
 * labels, any other label (one an AWS client chose) as it is.
 *
 * @example
 * ```ts
 * stageNameOfLabel('AWSPREVIOUS'); // 'previous'
 * stageNameOfLabel('blue'); // 'blue'
 * ```
 */
export function stageNameOfLabel(label: string): string {
  for (const stage of STAGES) if (LABEL_OF_STAGE[stage] === label) return stage;
  return label;
}

/** Whether `value` names a stage (exact spelling: `Previous` is not one). */
export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

/** The `?stage=` of a KV read: undefined when absent, else {@link parseStage}. */
export function stageOfQuery(value: unknown): Stage | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new CustosError('ERR_INVALID_REQUEST', 'stage must be given once');
  return parseStage(value);
}

/**
 * A `?stage=` value checked: one of {@link STAGES}, else a 400 naming the field (the value is
 * not echoed).
 */
export function parseStage(value: string): Stage {
  if (!isStage(value))
    throw new CustosError('ERR_INVALID_REQUEST', `stage must be one of ${STAGES.join(', ')}`);
  return value;
}

/**
 * The version holding `stage`, or undefined. A key whose metadata predates labels has its
 * current version as `current` and nothing else.
 *
 * @example
 * ```ts
 * versionOfStage(meta, 'previous'); // 2
 * ```
 */
export function versionOfStage(meta: KeyMetadata, stage: Stage): number | undefined {
  return ownValue(labelsOf(meta), labelOfStage(stage)) as number | undefined;
}

/** The labels each version holds, in the KV API's names, sorted (`{ "3": ["current"] }`). */
export function stagesByVersion(meta: KeyMetadata): Record<string, string[]> {
  const byVersion: Record<string, string[]> = {};
  for (const [label, version] of Object.entries(labelsOf(meta))) {
    const key = String(version);
    if (!Object.hasOwn(byVersion, key)) byVersion[key] = [];
    byVersion[key]?.push(stageNameOfLabel(label));
  }
  for (const list of Object.values(byVersion)) list.sort();
  return byVersion;
}

/**
 * A metadata response (`metadataResponse`) with each version's staging labels added as
 * `labels` (`[]` for a version with none).
 */
export function withVersionLabels(
  response: Record<string, unknown>,
  meta: KeyMetadata,
): Record<string, unknown> {
  const stages = stagesByVersion(meta);
  const versions: Record<string, unknown> = {};
  for (const [version, entry] of Object.entries(meta.versions))
    versions[version] = { ...entry, labels: ownValue(stages, version) ?? [] };
  return { ...response, versions };
}
