import { CustosError } from '@custos/core/errors';
import type { TokenStore } from '../../auth/token-store.js';
import { noContent, ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { authMountPath, canonicalMountPath } from '../mount-path.js';
import type { MountEntry, MountTable } from '../mount-table.js';
import { describeMount, isAuthMount, tuneOf } from '../mounts.js';
import { orTune, tunedMountPath, tuningOf } from './mounts.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** The auth method at `auth/<path>`, or a 400 naming it, as Vault. */
async function authMount(mounts: MountTable, path: string): Promise<MountEntry> {
  const mount = await mounts.get(`auth/${canonicalMountPath(path)}`);
  if (mount === undefined || !isAuthMount(mount))
    throw invalid(`no matching auth method at "auth/${path}"`);
  return mount;
}

/**
 * `sys/auth` (list, keyed by the path under `auth/`, as `vault auth list` reads them),
 * `sys/auth/:path` (read, enable, disable) and `sys/auth/:path/tune`. AppRole can be enabled at
 * any path; `token/` is the one token method. Everything but the list needs sudo, as in Vault.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [authMethodsPaths({ mounts, tokens })]);
 * ```
 */
export function authMethodsPaths(deps: {
  readonly mounts: MountTable;
  /** Revokes the tokens of a disabled method. */
  readonly tokens: Pick<TokenStore, 'revokeIssuedBy'>;
}): RouteGroup {
  const { mounts, tokens } = deps;
  const readTune = route({
    method: 'GET',
    path: '/v1/sys/auth/:path/tune',
    access: { sudo: true },
    handler: async (request, reply) =>
      ok(request, reply, tuneOf(await authMount(mounts, tunedMountPath(request)))),
  });
  const writeTune = route({
    method: 'POST',
    path: '/v1/sys/auth/:path/tune',
    access: { sudo: true },
    fields: {
      description: field.string(),
      default_lease_ttl: field.duration(),
      max_lease_ttl: field.duration(),
      options: field.map(),
    },
    handler: async (request, reply, fields) => {
      const mount = await authMount(mounts, tunedMountPath(request));
      await mounts.tune(mount.path, tuningOf(request, fields));
      return noContent(reply);
    },
  });
  return {
    name: 'sys/auth',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/auth',
        handler: async (request, reply) => {
          const data = Object.fromEntries(
            (await mounts.list())
              .filter(isAuthMount)
              .map((m) => [m.path.slice('auth/'.length), describeMount(m)]),
          );
          return ok(request, reply, data);
        },
      }),
      orTune(
        route({
          method: 'GET',
          path: '/v1/sys/auth/*',
          access: { sudo: true },
          handler: async (request, reply) =>
            ok(request, reply, describeMount(await authMount(mounts, request.params['*']))),
        }),
        readTune,
      ),
      orTune(
        route({
          method: 'POST',
          path: '/v1/sys/auth/*',
          access: { sudo: true },
          fields: {
            type: field.string({ required: true }),
            description: field.string(),
            options: field.map(),
          },
          handler: async (request, reply, { type, description, options }) => {
            const path = `auth/${authMountPath(request.params['*'])}`;
            if (type === 'token') throw invalid('token credential backend cannot be instantiated');
            if (type !== 'approle')
              throw invalid('unknown auth method type (custos serves approle)');
            await mounts.enable({
              path,
              type,
              ...(description === undefined ? {} : { description }),
              options,
            });
            return noContent(reply);
          },
        }),
        writeTune,
      ),
      route({
        method: 'DELETE',
        path: '/v1/sys/auth/*',
        access: { sudo: true },
        handler: async (request, reply) => {
          const path = `auth/${canonicalMountPath(request.params['*'])}`;
          // As Vault: disabling what is not enabled succeeds.
          const mount = await mounts.get(path);
          if (mount !== undefined && (await mounts.disable(path)))
            // Every token its logins issued goes with it (a login that raced this checks the
            // mount again once its token exists: approle-login.ts).
            await tokens.revokeIssuedBy(mount.uuid);
          return noContent(reply);
        },
      }),
      readTune,
      writeTune,
    ],
  };
}
