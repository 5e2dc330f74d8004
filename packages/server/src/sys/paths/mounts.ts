import { CustosError, PermissionDenied } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { optionalDuration, stringMap } from '../../http/fields.js';
import { type DeclaredRoute, type RouteGroup, route } from '../../http/route-spec.js';
import { authMountPath, secretsMountPath } from '../mount-path.js';
import type { MountConfig, MountEntry, MountTable, MountType } from '../mount-table.js';
import { describeMount, isAuthMount, mountOf, tuneOf } from '../mounts.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** The secrets engine types `sys/mounts/:path` enables, with the options each implies. */
const SECRETS_TYPES: Readonly<Record<string, { type: MountType; version?: string }>> = {
  kv: { type: 'kv' },
  generic: { type: 'kv' },
  'kv-v1': { type: 'kv', version: '1' },
  'kv-v2': { type: 'kv', version: '2' },
  transit: { type: 'transit' },
};

/** The engine types custos has but serves at their own path only. */
const FIXED_TYPES: ReadonlySet<string> = new Set(['cubbyhole', 'system', 'token', 'approle']);

/** The fields of an enable: `type`, `description` (`options` and `config` are read by hand). */
const ENABLE_FIELDS = {
  type: field.string({ required: true }),
  description: field.string(),
} as const;

/**
 * `options` of an enable: a map of strings, where a number stands for its digits (clients send
 * `{"version": 2}` as often as `{"version": "2"}`, and Vault takes both). Read by hand: no field
 * type takes numbers for strings.
 */
export function mountOptionsOf(request: FastifyRequest): Record<string, string> {
  const options = bodyOf(request).options;
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options))
    throw invalid('options must be an object of strings');
  const entries = Object.entries(options).map(([key, value]) => [
    key,
    typeof value === 'number' && Number.isFinite(value) ? String(value) : value,
  ]);
  return stringMap(Object.fromEntries(entries), 'options');
}

/** The fields of a tune (`options` only for what a mount allows; `config`-less, as Vault). */
const TUNE_FIELDS = {
  description: field.string(),
  default_lease_ttl: field.duration(),
  max_lease_ttl: field.duration(),
  options: field.map(),
} as const;

/**
 * `config` of an enable: an object whose `default_lease_ttl` / `max_lease_ttl` are durations.
 * Read by hand: a nested object no field type expresses.
 */
function configOf(request: FastifyRequest): Partial<MountConfig> {
  const config = bodyOf(request).config;
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config))
    throw invalid('config must be an object');
  const read = (name: keyof MountConfig) =>
    optionalDuration((config as Record<string, unknown>)[name], `config.${name}`);
  const [defaultTtl, maxTtl] = [read('default_lease_ttl'), read('max_lease_ttl')];
  return {
    ...(defaultTtl === undefined ? {} : { default_lease_ttl: defaultTtl }),
    ...(maxTtl === undefined ? {} : { max_lease_ttl: maxTtl }),
  };
}

/** The mount at `path` (a secrets engine), or a 400 naming the path, as Vault. */
async function secretsMount(mounts: MountTable, path: string): Promise<MountEntry> {
  const mount = await mounts.get(path);
  if (mount === undefined || isAuthMount(mount)) throw invalid(`no matching mount at "${path}"`);
  return mount;
}

/**
 * The mount path a tune route names: its `:path` (one segment), or the `*` of a
 * `sys/mounts/<path>/tune` request of several segments that a `*` route handed it
 * ({@link orTune}); with one trailing `/`.
 */
export function tunedMountPath(request: {
  readonly params: Readonly<Record<string, string | undefined>>;
}): string {
  const { params } = request;
  const path = params.path ?? params['*']?.slice(0, -TUNE_SUFFIX.length) ?? '';
  return withSlash(path);
}

const TUNE_SUFFIX = '/tune';

/**
 * `route` (a `sys/mounts/*` or `sys/auth/*` route), handing a path that ends in `/tune` to
 * `tune`: the router matches `…/:path/tune` for one segment only, and as in Vault (whose
 * `…/tune` pattern wins) `sys/mounts/teams/a/kv/tune` tunes `teams/a/kv/`. Both routes are
 * protected alike (checked by the tests that walk them).
 */
export function orTune(star: DeclaredRoute, tune: DeclaredRoute): DeclaredRoute {
  return {
    ...star,
    handler: (request, reply) => {
      const rest = (request.params as Readonly<Record<string, string | undefined>>)['*'];
      return rest?.endsWith(TUNE_SUFFIX) === true
        ? tune.handler(request, reply)
        : star.handler(request, reply);
    },
  };
}

/** `path` with one trailing `/` (a path parameter names a mount with or without it). */
const withSlash = (path: string) => (path.endsWith('/') ? path : `${path}/`);

/**
 * `sys/mounts` (list), `sys/mounts/:path` (read, enable, disable), `sys/mounts/:path/tune`,
 * `sys/remount`, and the UI mount lookup the `vault kv` CLI uses (`sys/internal/ui/mounts/*`).
 * The auth methods' routes are `sys/auth` (auth-methods.ts).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [mountsPaths({ mounts, reserved: new Set(['transit']) })]);
 * ```
 */
export function mountsPaths(deps: {
  readonly mounts: MountTable;
  /** First segments the server's own routes claim (filled once every group is declared). */
  readonly reserved: ReadonlySet<string>;
}): RouteGroup {
  const { mounts, reserved } = deps;
  const readTune = route({
    method: 'GET',
    path: '/v1/sys/mounts/:path/tune',
    handler: async (request, reply) =>
      ok(request, reply, tuneOf(await secretsMount(mounts, tunedMountPath(request)))),
  });
  const writeTune = route({
    method: 'POST',
    path: '/v1/sys/mounts/:path/tune',
    fields: TUNE_FIELDS,
    handler: async (request, reply, fields) => {
      const mount = await secretsMount(mounts, tunedMountPath(request));
      await mounts.tune(mount.path, tuningOf(request, fields));
      return noContent(reply);
    },
  });
  return {
    name: 'sys/mounts',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/mounts',
        handler: async (request, reply) => {
          const data = Object.fromEntries(
            (await mounts.list())
              .filter((m) => !isAuthMount(m))
              .map((m) => [m.path, describeMount(m)]),
          );
          return ok(request, reply, data);
        },
      }),
      orTune(
        route({
          method: 'GET',
          path: '/v1/sys/mounts/*',
          handler: async (request, reply) => {
            const mount = await secretsMount(mounts, withSlash(request.params['*']));
            return ok(request, reply, describeMount(mount));
          },
        }),
        readTune,
      ),
      orTune(
        route({
          method: 'POST',
          path: '/v1/sys/mounts/*',
          fields: ENABLE_FIELDS,
          handler: async (request, reply, { type, description }) => {
            const options = mountOptionsOf(request);
            const path = secretsMountPath(request.params['*'], reserved);
            const known = SECRETS_TYPES[type];
            if (known === undefined) {
              if (FIXED_TYPES.has(type))
                throw invalid(`custos serves the ${type} engine at its own path only`);
              throw invalid(
                `unknown secrets engine type (custos serves ${Object.keys(SECRETS_TYPES).join(', ')})`,
              );
            }
            await mounts.enable({
              path,
              type: known.type,
              ...(description === undefined ? {} : { description }),
              options:
                known.version === undefined ? options : { ...options, version: known.version },
              config: configOf(request),
            });
            return noContent(reply);
          },
        }),
        writeTune,
      ),
      route({
        method: 'DELETE',
        path: '/v1/sys/mounts/*',
        handler: async (request, reply) => {
          const path = withSlash(request.params['*']);
          const mount = await mounts.get(path);
          // As Vault: disabling what is not mounted succeeds; an auth method is not a mount here.
          if (mount !== undefined && !isAuthMount(mount)) await mounts.disable(path);
          return noContent(reply);
        },
      }),
      readTune,
      writeTune,
      route({
        method: 'POST',
        path: '/v1/sys/remount',
        access: { sudo: true },
        fields: { from: field.string({ required: true }), to: field.string({ required: true }) },
        handler: async (request, reply, { from, to }) => {
          const source = withSlash(from);
          const current = await mounts.list();
          const mount = mountOf(current, source);
          if (mount === undefined || mount.path !== source)
            throw invalid(`no matching mount at "${source}"`);
          const target = isAuthMount(mount)
            ? `auth/${authSegment(to)}`
            : secretsMountPath(to, reserved);
          await mounts.remount(mount.path, target);
          // Vault moves a mount's data in the background and returns an ID to poll; custos
          // moves nothing (data is keyed by the mount), so the move is done when this returns.
          return ok(request, reply, { migration_id: mount.uuid });
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/internal/ui/mounts/*',
        handler: async (request, reply) => {
          const mount = mountOf(await mounts.list(), request.params['*']);
          // As Vault: the mount is described only to a token with some capability under it.
          if (
            mount === undefined ||
            isAuthMount(mount) ||
            mount.path === 'sys/' ||
            request.custos.acl?.reachesUnder(mount.path) !== true
          ) {
            throw new PermissionDenied();
          }
          return ok(request, reply, { ...describeMount(mount), path: mount.path });
        },
      }),
    ],
  };
}

/** An auth method's path under `auth/` as `sys/remount` takes it (`auth/approle2`). */
function authSegment(to: string): string {
  if (!to.startsWith('auth/')) throw invalid('an auth method can only move under auth/');
  return authMountPath(to.slice('auth/'.length));
}

/** The change a tune asks for. */
export function tuningOf(
  request: FastifyRequest,
  fields: {
    readonly description?: string | undefined;
    readonly default_lease_ttl?: number | undefined;
    readonly max_lease_ttl?: number | undefined;
    readonly options: Record<string, string>;
  },
): Parameters<MountTable['tune']>[1] {
  const config: Partial<MountConfig> = {
    ...(fields.default_lease_ttl === undefined
      ? {}
      : { default_lease_ttl: fields.default_lease_ttl }),
    ...(fields.max_lease_ttl === undefined ? {} : { max_lease_ttl: fields.max_lease_ttl }),
  };
  const hasOptions = Object.hasOwn(bodyOf(request), 'options');
  return {
    ...(fields.description === undefined ? {} : { description: fields.description }),
    config,
    ...(hasOptions ? { options: stringMap(fields.options, 'options') } : {}),
  };
}
