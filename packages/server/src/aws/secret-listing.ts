import { labelsOfVersion } from '../kv/kv-labels.js';
import type { KeyMetadata } from '../kv/kv-metadata.js';
import { invalidParameter } from './aws-error.js';
import type { SecretRef } from './secret-id.js';
import { epochOf, versionIdOf } from './secret-versions.js';
import { describe, findSecret, isMarked, type SecretsManagerDeps } from './secrets-manager.js';

/** A ListSecrets filter: its key and values (a value starting with `!` negates). */
export interface SecretFilter {
  readonly Key: string;
  readonly Values: readonly string[];
}

const FILTER_KEYS = ['name', 'description', 'tag-key', 'tag-value', 'all'] as const;

/** Reads `Filters`: at most 10, keys AWS knows (those custos can apply), values 1–512 chars. */
export function filtersOf(value: unknown): SecretFilter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 10)
    throw invalidParameter('Filters must be a list of at most 10 filters');
  return value.map((f) => {
    const filter = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
    if (!FILTER_KEYS.includes(filter.Key as (typeof FILTER_KEYS)[number]))
      throw invalidParameter(`Filters.Key must be one of ${FILTER_KEYS.join(', ')}`);
    const values = filter.Values;
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      values.length > 10 ||
      values.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 512)
    )
      throw invalidParameter('Filters.Values must be 1 to 10 strings of 1 to 512 characters');
    return { Key: filter.Key as string, Values: values as string[] };
  });
}

/** Whether a secret passes every filter (prefix match, not case-sensitive, as AWS). */
function matches(name: string, meta: KeyMetadata, filters: readonly SecretFilter[]): boolean {
  const tags = meta.aws?.tags ?? [];
  const fieldsOf = (key: string): string[] => {
    switch (key) {
      case 'name':
        return [name];
      case 'description':
        return meta.aws?.description === undefined ? [] : [meta.aws.description];
      case 'tag-key':
        return tags.map((t) => t.Key);
      case 'tag-value':
        return tags.map((t) => t.Value);
      default:
        return [name, meta.aws?.description ?? '', ...tags.flatMap((t) => [t.Key, t.Value])];
    }
  };
  return filters.every((filter) => {
    const fields = fieldsOf(filter.Key).map((f) => f.toLowerCase());
    return filter.Values.some((raw) => {
      const negated = raw.startsWith('!');
      const prefix = (negated ? raw.slice(1) : raw).toLowerCase();
      const hit = fields.some((f) => f.startsWith(prefix));
      return negated ? !hit : hit;
    });
  });
}

/** Every key of the mount, depth first, sorted. */
async function allNames(deps: SecretsManagerDeps, folder = ''): Promise<string[]> {
  const out: string[] = [];
  for (const child of await deps.kv.list(folder)) {
    if (child.endsWith('/')) out.push(...(await allNames(deps, folder + child)));
    else out.push(folder + child);
  }
  return out;
}

const tokenOf = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
function afterOf(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidParameter('NextToken is not valid');
  return Buffer.from(token, 'base64url').toString('utf8');
}

/**
 * The secrets a listing shows, in name order (`descending`: reversed) from after `NextToken`:
 * those `visible` lets the caller see, that pass the filters, marked for deletion only with
 * `includeMarked`. The order is the whole listing's, so pages follow each other in it.
 */
export async function listMatching(
  deps: SecretsManagerDeps,
  input: {
    filters: readonly SecretFilter[];
    maxResults: number;
    nextToken: string | undefined;
    includeMarked: boolean;
    visible: (name: string) => boolean;
    descending?: boolean;
  },
): Promise<{ secrets: { name: string; meta: KeyMetadata }[]; nextToken?: string }> {
  const after = afterOf(input.nextToken);
  const secrets: { name: string; meta: KeyMetadata }[] = [];
  const names = await allNames(deps);
  if (input.descending === true) names.reverse();
  for (const name of names) {
    if (after !== undefined && (input.descending === true ? name >= after : name <= after))
      continue;
    if (!input.visible(name)) continue;
    let meta: KeyMetadata;
    try {
      meta = (await findSecret(deps, { name }, true)).meta;
    } catch {
      continue; // deleted meanwhile, or its recovery window just ended
    }
    if (isMarked(meta) && !input.includeMarked) continue;
    if (!matches(name, meta, input.filters)) continue;
    if (secrets.length === input.maxResults)
      return { secrets, nextToken: tokenOf(secrets[secrets.length - 1]?.name as string) };
    secrets.push({ name, meta });
  }
  return { secrets };
}

/** ListSecrets. */
export async function listSecrets(
  deps: SecretsManagerDeps,
  input: Parameters<typeof listMatching>[1],
) {
  const { secrets, nextToken } = await listMatching(deps, input);
  const list = secrets.map(({ name, meta }) => describe(deps, name, meta));
  return { SecretList: list, ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}

/** ListSecretVersionIds: labelled versions (every version with `includeDeprecated`). */
export async function listSecretVersionIds(
  deps: SecretsManagerDeps,
  ref: SecretRef,
  input: { maxResults: number; nextToken: string | undefined; includeDeprecated: boolean },
) {
  const { name, meta, arn } = await findSecret(deps, ref);
  const after = input.nextToken === undefined ? 0 : Number(afterOf(input.nextToken));
  if (!Number.isInteger(after)) throw invalidParameter('NextToken is not valid');
  const versions = Object.keys(meta.versions)
    .map(Number)
    .filter((v) => v > after)
    .sort((a, b) => a - b)
    .filter((v) => input.includeDeprecated || labelsOfVersion(meta, v).length > 0);
  const page = versions.slice(0, input.maxResults);
  const more = versions.length > page.length;
  return {
    ARN: arn,
    Name: name,
    Versions: page.map((v) => ({
      VersionId: versionIdOf(meta, v),
      VersionStages: labelsOfVersion(meta, v),
      CreatedDate: epochOf((meta.versions[String(v)] as { created_time: string }).created_time),
    })),
    ...(more ? { NextToken: tokenOf(String(page[page.length - 1])) } : {}),
  };
}
