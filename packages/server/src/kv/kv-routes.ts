import { CustosError } from '@custos/core/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyOf } from '../http/body-parser.js';
import { envelope, noContent, ok } from '../http/envelope.js';
import { HttpResponseError } from '../http/error-mapping.js';
import { durationField, intField, jsonBool } from '../http/fields.js';
import { isListRequest } from '../http/route-access.js';
import { formatDuration } from '../lib/duration.js';
import { checkDataKeys } from './kv-data-keys.js';
import type { KvEngine } from './kv-engine.js';
import {
  type KeyMetadata,
  mergeCustomMetadata,
  metadataResponse,
  parseCustomMetadata,
  subkeysOf,
  versionResponse,
} from './kv-metadata.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

function keyOf(request: FastifyRequest, allowFolder = false): string {
  const key = (request.params as { '*': string })['*'];
  if (!allowFolder && (key === '' || key.endsWith('/'))) throw invalid('missing path');
  return key;
}

function casOf(body: Record<string, unknown>): number | undefined {
  const options = body.options;
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object' || Array.isArray(options))
    throw invalid('options must be an object');
  const cas = (options as Record<string, unknown>).cas;
  return cas === undefined
    ? undefined
    : intField(cas, 'cas', 'error parsing check-and-set parameter');
}

function dataOf(body: Record<string, unknown>): Record<string, unknown> {
  const data = body.data;
  if (data === undefined || data === null) throw invalid('no data provided');
  if (typeof data !== 'object' || Array.isArray(data)) throw invalid('data must be a JSON object');
  checkDataKeys(data as Record<string, unknown>);
  return data as Record<string, unknown>;
}

function versionsOf(body: Record<string, unknown>): number[] {
  const versions = body.versions;
  if (!Array.isArray(versions) || versions.length === 0)
    throw invalid('no version number provided');
  return versions.map((v) => intField(v, 'versions', 'versions must be integers'));
}

function requireMergePatch(request: FastifyRequest): void {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/merge-patch+json')) {
    throw new HttpResponseError(415, {
      errors: ['PATCH requires Content-Type: application/merge-patch+json'],
    });
  }
}

/** Vault's 404 for a deleted or destroyed version: the envelope, with its metadata. */
function unavailable(
  request: FastifyRequest,
  meta: KeyMetadata,
  version: number,
  data: unknown,
): never {
  throw new HttpResponseError(404, {
    ...envelope(request.id, data ?? { data: null, metadata: versionResponse(meta, version) }),
  });
}

/**
 * KV version 2 at `/v1/<mount>/…`, with Vault's paths, shapes and status codes.
 *
 * @example
 * ```ts
 * registerKvRoutes(app, 'secret', ctx.kv);
 * ```
 */
export function registerKvRoutes(app: FastifyInstance, mount: string, kv: KvEngine): void {
  const base = `/v1/${mount}`;
  const metadataExists = async (request: FastifyRequest) =>
    (await kv.readMetadata(keyOf(request, true))) !== undefined;

  app.route({
    method: 'GET',
    url: `${base}/config`,
    handler: async (request, reply) => {
      const cfg = await kv.config();
      return ok(request, reply, {
        cas_required: cfg.cas_required,
        delete_version_after: formatDuration(cfg.delete_version_after),
        max_versions: cfg.max_versions,
      });
    },
  });
  app.route({
    method: 'POST',
    url: `${base}/config`,
    handler: async (request, reply) => {
      // Validate before reading: a wrong type is refused whatever the current settings are.
      const changes = settingsOf(bodyOf(request));
      await kv.setConfig({ ...(await kv.config()), ...changes });
      return noContent(reply);
    },
  });

  app.route({
    method: 'GET',
    url: `${base}/data/*`,
    handler: async (request, reply) => {
      const key = keyOf(request);
      const query = request.query as Record<string, unknown>;
      const version =
        query.version === undefined
          ? undefined
          : intField(query.version, 'version', 'version must be an integer');
      const found = await kv.read(key, version);
      if (found.kind === 'missing') throw new CustosError('ERR_NOT_FOUND', 'not found');
      if (found.kind === 'unavailable') unavailable(request, found.meta, found.version, undefined);
      return ok(request, reply, {
        data: found.data,
        metadata: versionResponse(found.meta, found.version),
      });
    },
  });
  app.route({
    method: 'POST',
    url: `${base}/data/*`,
    config: { access: { exists: metadataExists } },
    handler: async (request, reply) => {
      const body = bodyOf(request);
      const key = keyOf(request);
      const { meta, version } = await kv.write(key, dataOf(body), casOf(body));
      return ok(request, reply, versionResponse(meta, version));
    },
  });
  app.route({
    method: 'PATCH',
    url: `${base}/data/*`,
    handler: async (request, reply) => {
      requireMergePatch(request);
      const body = bodyOf(request);
      const key = keyOf(request);
      try {
        const { meta, version } = await kv.patch(key, dataOf(body), casOf(body));
        return ok(request, reply, versionResponse(meta, version));
      } catch (err) {
        if ((err as CustosError).code !== 'ERR_NOT_FOUND') throw err;
        const meta = await kv.readMetadata(key);
        if (meta === undefined || meta.versions[String(meta.current_version)] === undefined)
          throw err;
        return unavailable(
          request,
          meta,
          meta.current_version,
          versionResponse(meta, meta.current_version),
        );
      }
    },
  });
  app.route({
    method: 'DELETE',
    url: `${base}/data/*`,
    handler: async (request, reply) => {
      await kv.deleteLatest(keyOf(request));
      return noContent(reply);
    },
  });

  for (const [action, apply] of [
    ['delete', kv.deleteVersions],
    ['undelete', kv.undeleteVersions],
    ['destroy', kv.destroyVersions],
  ] as const) {
    app.route({
      method: 'POST',
      url: `${base}/${action}/*`,
      handler: async (request, reply) => {
        const key = keyOf(request);
        await apply(key, versionsOf(bodyOf(request)));
        return noContent(reply);
      },
    });
  }

  const list = async (request: FastifyRequest, reply: FastifyReply, folder: string) => {
    const keys = await kv.list(folder);
    if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
    return ok(request, reply, { keys });
  };
  // The mount root without a trailing slash: `vault kv list secret` and node-vault's
  // list('secret/metadata') ask here. It only lists; there is no key to read.
  app.route({
    method: 'GET',
    url: `${base}/metadata`,
    config: { access: { list: true } },
    handler: async (request, reply) => {
      if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
      return list(request, reply, '');
    },
  });
  app.route({
    method: 'GET',
    url: `${base}/metadata/*`,
    config: { access: { list: true } },
    handler: async (request, reply) => {
      if (isListRequest(request)) return list(request, reply, keyOf(request, true));
      const meta = await kv.readMetadata(keyOf(request));
      if (meta === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
      return ok(request, reply, metadataResponse(meta));
    },
  });
  app.route({
    method: 'POST',
    url: `${base}/metadata/*`,
    config: { access: { exists: metadataExists } },
    handler: async (request, reply) => {
      const body = bodyOf(request);
      const key = keyOf(request);
      const fields = metadataFields(body, false);
      // Even with no fields the metadata is created (as Vault does): the key exists, at version 0.
      // Without PATCH semantics, custom_metadata holds no nulls (parseCustomMetadata refuses them).
      await kv.setMetadata(key, fields as Parameters<KvEngine['setMetadata']>[1]);
      return noContent(reply);
    },
  });
  app.route({
    method: 'PATCH',
    url: `${base}/metadata/*`,
    handler: async (request, reply) => {
      requireMergePatch(request);
      const fields = metadataFields(bodyOf(request), true);
      const found = await kv.patchMetadata(keyOf(request), (meta) => {
        const { custom_metadata: custom, ...rest } = fields;
        Object.assign(meta, rest);
        if (custom !== undefined)
          meta.custom_metadata = mergeCustomMetadata(meta.custom_metadata, custom ?? {});
      });
      if (!found) throw new CustosError('ERR_NOT_FOUND', 'not found');
      return noContent(reply);
    },
  });
  app.route({
    method: 'DELETE',
    url: `${base}/metadata/*`,
    handler: async (request, reply) => {
      await kv.deleteMetadata(keyOf(request));
      return noContent(reply);
    },
  });

  app.route({
    method: 'GET',
    url: `${base}/subkeys/*`,
    handler: async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const version =
        query.version === undefined
          ? undefined
          : intField(query.version, 'version', 'version must be an integer');
      const depth = query.depth === undefined ? 0 : intField(query.depth, 'depth');
      const found = await kv.read(keyOf(request), version);
      if (found.kind === 'missing') throw new CustosError('ERR_NOT_FOUND', 'not found');
      if (found.kind === 'unavailable') {
        unavailable(request, found.meta, found.version, {
          subkeys: null,
          metadata: versionResponse(found.meta, found.version),
        });
      }
      return ok(request, reply, {
        subkeys: subkeysOf(found.data, depth),
        metadata: versionResponse(found.meta, found.version),
      });
    },
  });
}

type Settings = {
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: number;
};

type MetadataFields = Settings & {
  custom_metadata?: Record<string, string | null> | null;
};

/** The settings `config` and `metadata` share, each type-checked (400 naming the field). */
function settingsOf(body: Record<string, unknown>): Settings {
  const fields: Settings = {};
  if (body.max_versions !== undefined)
    fields.max_versions = intField(body.max_versions, 'max_versions');
  if (body.cas_required !== undefined) {
    fields.cas_required = jsonBool(body.cas_required, 'cas_required');
  }
  if (body.delete_version_after !== undefined) {
    fields.delete_version_after = durationField(body.delete_version_after, 'delete_version_after');
  }
  return fields;
}

function metadataFields(body: Record<string, unknown>, patch: boolean): MetadataFields {
  const fields: MetadataFields = settingsOf(body);
  if (body.custom_metadata !== undefined) {
    const parsed = parseCustomMetadata(body.custom_metadata, patch);
    fields.custom_metadata = patch ? parsed : Object.keys(parsed).length > 0 ? parsed : null;
  }
  return fields;
}
