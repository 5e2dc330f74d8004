import { withCanonicalDataClass } from '@custos/core/classification';
import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';
import { envelope } from '../../http/envelope.js';
import { HttpResponseError } from '../../http/error-mapping.js';
import { type FieldValues, field } from '../../http/field-schema.js';
import { intField } from '../../http/fields.js';
import { checkDataKeys } from '../kv-data-keys.js';
import type { KvEngine } from '../kv-engine.js';
import { type KeyMetadata, parseCustomMetadata, versionResponse } from '../kv-metadata.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The key a KV request names (the `*` of its path); a folder (`''`, `…/`) only where
 * `allowFolder` (listing), else `missing path`.
 *
 * @example
 * ```ts
 * keyOf(request.params['*']); // 'app/db'
 * ```
 */
export function keyOf(path: string, allowFolder = false): string {
  if (!allowFolder && (path === '' || path.endsWith('/'))) throw invalid('missing path');
  return path;
}

/**
 * Whether the key a write names exists already (its metadata), which decides whether the ACL
 * judges the write as `create` or `update`; asked only after authentication.
 *
 * @example
 * ```ts
 * route({ method: 'POST', path, access: { exists: keyExists(kvOf) }, handler });
 * ```
 */
export function keyExists(
  kvOf: KvOf,
): (request: FastifyRequest<{ Params: { '*': string } }>) => Promise<boolean> {
  return async (request) =>
    (await kvOf(request).readMetadata(keyOf(request.params['*'], true))) !== undefined;
}

/**
 * The KV version 2 engine of the mount a request was admitted for (routes are declared once,
 * with a `:mount` parameter; see `http/mount-routing.ts`).
 */
export type KvOf = (request: FastifyRequest) => KvEngine;

/** The check-and-set version in `options.cas`, when given. */
export function casOf(body: Record<string, unknown>): number | undefined {
  const options = body.options;
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object' || Array.isArray(options))
    throw invalid('options must be an object');
  const cas = (options as Record<string, unknown>).cas;
  return cas === undefined
    ? undefined
    : intField(cas, 'cas', 'error parsing check-and-set parameter');
}

/** The secret's data: a JSON object whose keys pass {@link checkDataKeys}. */
export function dataOf(body: Record<string, unknown>): Record<string, unknown> {
  const data = body.data;
  if (data === undefined || data === null) throw invalid('no data provided');
  if (typeof data !== 'object' || Array.isArray(data)) throw invalid('data must be a JSON object');
  checkDataKeys(data as Record<string, unknown>);
  return data as Record<string, unknown>;
}

/** The `versions` of a delete, undelete or destroy: a non-empty list of integers. */
export function versionsOf(body: Record<string, unknown>): number[] {
  const versions = body.versions;
  if (!Array.isArray(versions) || versions.length === 0)
    throw invalid('no version number provided');
  return versions.map((v) => intField(v, 'versions', 'versions must be integers'));
}

/** A version asked for in the query (`?version=`), when given. */
export const VERSION_FIELD = field.int({ strict: true, message: 'version must be an integer' });

/** PATCH takes JSON merge patches only (415 otherwise), as Vault. */
export function requireMergePatch(request: FastifyRequest): void {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/merge-patch+json')) {
    throw new HttpResponseError(415, {
      errors: ['PATCH requires Content-Type: application/merge-patch+json'],
    });
  }
}

/** Vault's 404 for a deleted or destroyed version: the envelope, with its metadata. */
export function unavailable(
  request: FastifyRequest,
  meta: KeyMetadata,
  version: number,
  data: unknown,
): never {
  throw new HttpResponseError(404, {
    ...envelope(request, data ?? { data: null, metadata: versionResponse(meta, version) }),
  });
}

/** The settings `config` and `metadata` share. */
export type Settings = {
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: number;
};

/** What a metadata write may set. */
export type MetadataFields = Settings & {
  custom_metadata?: Record<string, string | null> | null;
};

/** The settings `config` and `metadata` share, each type-checked (400 naming the field). */
export const SETTINGS_FIELDS = {
  max_versions: field.int({ strict: true }),
  cas_required: field.bool({ json: true }),
  delete_version_after: field.duration(),
} as const;

/** The settings a request gives (an absent one is not changed). */
export function settingsOf(values: FieldValues<typeof SETTINGS_FIELDS>): Settings {
  const fields: Settings = {};
  if (values.max_versions !== undefined) fields.max_versions = values.max_versions;
  if (values.cas_required !== undefined) fields.cas_required = values.cas_required;
  if (values.delete_version_after !== undefined)
    fields.delete_version_after = values.delete_version_after;
  return fields;
}

/**
 * The fields of a metadata write (`patch`: a merge patch, where `null` removes): the settings,
 * and `custom_metadata`, read here (a map whose `null`s mean something only in a patch).
 */
export function metadataFields(
  settings: FieldValues<typeof SETTINGS_FIELDS>,
  body: Record<string, unknown>,
  patch: boolean,
): MetadataFields {
  const fields: MetadataFields = settingsOf(settings);
  if (body.custom_metadata !== undefined) {
    // The data class convention (docs/secrets.md): checked, and stored canonically spelled so a
    // LIST filtered by class finds it whatever case it was written in.
    const parsed = withCanonicalDataClass(parseCustomMetadata(body.custom_metadata, patch));
    fields.custom_metadata = patch ? parsed : Object.keys(parsed).length > 0 ? parsed : null;
  }
  return fields;
}
