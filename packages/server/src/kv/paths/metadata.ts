import {
  DATA_CLASS_KEY,
  type DataClass,
  dataClassOf,
  parseDataClass,
} from '@custos/core/classification';
import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { readFields } from '../../http/field-schema.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, type RouteRequest, route } from '../../http/route-spec.js';
import type { KvEngine } from '../kv-engine.js';
import { mergeCustomMetadata, metadataResponse } from '../kv-metadata.js';
import { withVersionLabels } from '../kv-stages.js';
import type { KvOf } from './request.js';
import { keyExists, keyOf, metadataFields, requireMergePatch, SETTINGS_FIELDS } from './request.js';

/** A `?data_class=` value checked (any case, once), or undefined when the list is not filtered. */
function dataClassOfQuery(value: unknown): DataClass | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new CustosError('ERR_INVALID_REQUEST', 'data_class must be given once');
  return parseDataClass(value, 'data_class');
}

/**
 * The keys of `folder` whose `custom_metadata.data_class` is `dataClass`, and its folders: a
 * client descends into a folder with a LIST of its own, which policy checks as any other, so
 * the filter never reveals a name below the folder asked for. A key's class is metadata: only
 * keys whose metadata the token may read are judged; the others are left out, never guessed.
 */
async function keysOfClass(
  request: RouteRequest,
  kv: KvEngine,
  folder: string,
  keys: readonly string[],
  dataClass: DataClass,
): Promise<string[]> {
  const prefix = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
  const listed = request.custos.path.endsWith('/')
    ? request.custos.path
    : `${request.custos.path}/`;
  const kept: string[] = [];
  for (const key of keys) {
    if (key.endsWith('/')) {
      kept.push(key);
      continue;
    }
    if (request.custos.acl?.allows(`${listed}${key}`, 'read') !== true) continue;
    const meta = await kv.readMetadata(`${prefix}${key}`);
    if (dataClassOf(meta?.custom_metadata?.[DATA_CLASS_KEY]) === dataClass) kept.push(key);
  }
  return kept;
}

/**
 * `<mount>/metadata` and `<mount>/metadata/*`: list keys, and read, write, merge-patch and
 * delete a key's metadata (deleting it deletes every version).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [kvMetadataPaths(kvOf)]);
 * ```
 */
export function kvMetadataPaths(kvOf: KvOf): RouteGroup {
  const path = `/v1/:mount/metadata/*` as const;
  const list = async (request: RouteRequest, reply: Parameters<typeof ok>[1], folder: string) => {
    const dataClass = dataClassOfQuery((request.query as Record<string, unknown>).data_class);
    const kv = kvOf(request);
    let keys = await kv.list(folder);
    if (dataClass !== undefined) keys = await keysOfClass(request, kv, folder, keys, dataClass);
    if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
    return ok(request, reply, { keys });
  };
  return {
    name: `kv/metadata`,
    routes: [
      // The mount root without a trailing slash: `vault kv list secret` and node-vault's
      // list('secret/metadata') ask here. It only lists; there is no key to read.
      route({
        method: 'GET',
        path: `/v1/:mount/metadata`,
        access: { list: true },
        handler: async (request, reply) => {
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return list(request, reply, '');
        },
      }),
      route({
        method: 'GET',
        path,
        access: { list: true },
        handler: async (request, reply) => {
          if (isListRequest(request)) return list(request, reply, keyOf(request.params['*'], true));
          const meta = await kvOf(request).readMetadata(keyOf(request.params['*']));
          if (meta === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, withVersionLabels(metadataResponse(meta), meta));
        },
      }),
      route({
        method: 'POST',
        path,
        access: { exists: keyExists(kvOf) },
        fields: SETTINGS_FIELDS,
        handler: async (request, reply, settings) => {
          const key = keyOf(request.params['*']);
          const fields = metadataFields(settings, bodyOf(request), false);
          // Even with no fields the metadata is created (as Vault does): the key exists, at
          // version 0. Without PATCH semantics, custom_metadata holds no nulls
          // (parseCustomMetadata refuses them).
          await kvOf(request).setMetadata(key, fields as Parameters<KvEngine['setMetadata']>[1]);
          return noContent(reply);
        },
      }),
      route({
        method: 'PATCH',
        path,
        handler: async (request, reply) => {
          requireMergePatch(request);
          // Read after the content type is checked (a wrong one is a 415 before any 400).
          const settings = readFields(SETTINGS_FIELDS, request);
          const fields = metadataFields(settings, bodyOf(request), true);
          const found = await kvOf(request).patchMetadata(keyOf(request.params['*']), (meta) => {
            const { custom_metadata: custom, ...rest } = fields;
            Object.assign(meta, rest);
            if (custom !== undefined)
              meta.custom_metadata = mergeCustomMetadata(meta.custom_metadata, custom ?? {});
          });
          if (!found) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return noContent(reply);
        },
      }),
      route({
        method: 'DELETE',
        path,
        handler: async (request, reply) => {
          await kvOf(request).deleteMetadata(keyOf(request.params['*']));
          return noContent(reply);
        },
      }),
    ],
  };
}
