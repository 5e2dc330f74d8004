import { CustosError } from '@custos/core/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenEntry } from '../../auth/token-store.js';
import { bodyOf } from '../../http/body-parser.js';
import { envelope, noContent, ok } from '../../http/envelope.js';
import { HttpResponseError, UNSUPPORTED_PATH_BODY } from '../../http/error-mapping.js';
import { routedByMount } from '../../http/mount-routing.js';
import { isListRequest } from '../../http/route-access.js';
import { type DeclaredRoute, type RouteGroup, route } from '../../http/route-spec.js';
import type { KvMounts } from '../../kv/kv-mounts.js';
import type { Kv1Engine } from '../../kv/kv1-engine.js';
import { engineOf, type MountEntry } from '../mount-table.js';

/** The name of the group that serves what no engine's route of a mount serves. */
export const MOUNT_CATCH_ALL_GROUP = 'mount catch-all';

/** What the catch-all route uses: KV version 1 mounts and each token's cubbyhole. */
export interface MountCatchAllDeps {
  readonly kvMounts: Pick<KvMounts, 'v1'>;
  /** The cubbyhole of the token `entry`. */
  readonly cubbyholeOf: (entry: TokenEntry) => Kv1Engine;
}

/** The lease duration of a KV version 1 read when the mount sets none (768 h, as Vault). */
const DEFAULT_LEASE_SECONDS = 768 * 3600;

/** The paths of the versioned engine's routes Vault's KV v2 hint names, by method. */
const KV_SUBCOMMAND: Readonly<Record<string, string>> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'put',
  PUT: 'put',
  PATCH: 'patch',
  DELETE: 'delete',
};

/**
 * Vault's answer to a version 1 path on a KV version 2 mount: a 404 with this warning, which
 * tools (the `vault kv` CLI, libraries) read to find a mount's KV version.
 */
export function versionedKvHint(request: FastifyRequest): HttpResponseError {
  const subcommand = isListRequest(request) ? 'list' : (KV_SUBCOMMAND[request.method] ?? 'get');
  return new HttpResponseError(404, {
    ...envelope(request, null, {
      warnings: [
        `Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${subcommand}' for this operation.`,
      ],
    }),
  });
}

const notFound = () => new HttpResponseError(404, { errors: [] });

/** The key a request names inside its mount (the request path after the mount's path). */
const keyIn = (request: FastifyRequest, mount: MountEntry) =>
  request.custos.path.slice(mount.path.length);

/**
 * The `/v1/:mount/*` route (and `/v1/auth/:mount/*`, for auth methods): every request under a mount that no route of the mount's engine
 * serves. KV version 1 mounts and `cubbyhole/` are served here (read, write, delete, list: one
 * unversioned value per key); on a KV version 2 mount it is Vault's "Invalid path for a
 * versioned K/V secrets engine" 404; under no mount, Vault's "no handler for route" 404; under
 * any other mount, `unsupported path` (404). The routes of the other engines send here the
 * requests whose mount they do not serve (`http/mount-routing.ts`).
 *
 * @example
 * ```ts
 * const { route, group } = mountCatchAll({ kvMounts, cubbyholeOf });
 * registerRouteGroups(app, [mountedGroup('kv-2', kvDataPaths(kvOf), route), group]);
 * ```
 */
export function mountCatchAll(deps: MountCatchAllDeps): {
  readonly route: DeclaredRoute;
  readonly authRoute: DeclaredRoute;
  readonly group: RouteGroup;
} {
  /** The unversioned store a request reaches, if its mount is one. */
  const storeOf = (request: FastifyRequest): Kv1Engine | undefined => {
    const mount = request.custos.mount;
    if (mount === undefined) return undefined;
    const engine = engineOf(mount);
    if (engine === 'kv-1') return deps.kvMounts.v1(mount);
    if (engine === 'cubbyhole' && request.custos.entry !== undefined)
      return deps.cubbyholeOf(request.custos.entry);
    return undefined;
  };

  const serveUnversioned = async (
    request: FastifyRequest,
    reply: FastifyReply,
    store: Kv1Engine,
    mount: MountEntry,
  ) => {
    const key = keyIn(request, mount);
    const isFolder = key === '' || key.endsWith('/');
    switch (request.method) {
      case 'GET':
      case 'HEAD': {
        if (isListRequest(request)) {
          const keys = await store.list(key);
          if (keys.length === 0) throw notFound();
          return ok(request, reply, { keys });
        }
        const data = isFolder ? undefined : await store.read(key);
        if (data === undefined) throw notFound();
        // The lease a KV version 1 read reports: the mount's default lease TTL (768 h unset).
        return reply.code(200).send({
          ...envelope(request, data),
          lease_duration:
            mount.type === 'cubbyhole'
              ? 0
              : mount.config.default_lease_ttl || DEFAULT_LEASE_SECONDS,
        });
      }
      case 'POST':
      case 'PUT': {
        if (isFolder) throw new CustosError('ERR_INVALID_REQUEST', 'missing path');
        const data = bodyOf(request);
        if (Object.keys(data).length === 0)
          throw new CustosError('ERR_INVALID_REQUEST', 'missing data fields');
        await store.write(key, data);
        return noContent(reply);
      }
      case 'DELETE':
        if (!isFolder) await store.remove(key);
        return noContent(reply);
      default:
        throw new HttpResponseError(405, { errors: ['unsupported operation'] });
    }
  };

  const catchAll = route({
    // PATCH too: the router reads one segment as `:mount`, so a KV version 2 patch under a
    // mount of several segments (`teams/a/kv/data/x`) arrives here to be matched again.
    method: ['GET', 'POST', 'PATCH', 'DELETE'],
    path: '/v1/:mount/*',
    access: {
      list: true,
      // A write creates the key unless it holds a value (KV version 1 and the cubbyhole).
      exists: async (request) => {
        const store = storeOf(request);
        const mount = request.custos.mount;
        if (store === undefined || mount === undefined) return false;
        const key = keyIn(request, mount);
        return key !== '' && !key.endsWith('/') && (await store.read(key)) !== undefined;
      },
    },
    handler: async (request, reply) => {
      const mount = request.custos.mount;
      if (mount === undefined) {
        throw new HttpResponseError(404, {
          errors: [`no handler for route "${request.custos.path}". route entry not found.`],
        });
      }
      const store = storeOf(request);
      if (store !== undefined) return serveUnversioned(request, reply, store, mount);
      if (engineOf(mount) === 'kv-2') throw versionedKvHint(request);
      throw new HttpResponseError(404, { errors: [...UNSUPPORTED_PATH_BODY.errors] });
    },
  });
  // It serves whatever its mount is (or that there is none).
  const declared = routedByMount(catchAll, { under: '', serves: () => true });
  // Under `auth/`: what no route of an auth method serves.
  const authCatchAll = route({
    method: ['GET', 'POST', 'DELETE'],
    path: '/v1/auth/:mount/*',
    access: { list: true },
    handler: async (request) => {
      if (request.custos.mount === undefined) {
        throw new HttpResponseError(404, {
          errors: [`no handler for route "${request.custos.path}". route entry not found.`],
        });
      }
      throw new HttpResponseError(404, { errors: [...UNSUPPORTED_PATH_BODY.errors] });
    },
  });
  const authDeclared = routedByMount(authCatchAll, { under: 'auth/', serves: () => true });
  return {
    route: declared,
    authRoute: authDeclared,
    group: { name: MOUNT_CATCH_ALL_GROUP, routes: [declared, authDeclared] },
  };
}
