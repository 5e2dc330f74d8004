import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import type { MountEngine, MountEntry } from '../sys/mount-table.js';
import { engineOf } from '../sys/mount-table.js';
import { patternReading } from './api-path.js';
import type { MountRouting } from './route-access.js';
import type { DeclaredRoute, RouteGroup } from './route-spec.js';
import { ROUTER_OPTIONS } from './router-options.js';

/**
 * `route`, routed by mount (`routing`): its handler runs the route the boundary chose to serve
 * the request (`request.custos.served`: the route itself, the route matched again under a mount
 * of several segments, or the mount catch-all), the route itself when none was chosen.
 *
 * @example
 * ```ts
 * const catchAll = routedByMount(route({ … }), { under: '', serves: () => true });
 * ```
 */
export function routedByMount(
  declared: DeclaredRoute,
  routing: { readonly under: '' | 'auth/'; readonly serves: MountRouting['serves'] },
  fallback?: DeclaredRoute,
): DeclaredRoute {
  // A mount path is case-sensitive (`Team/` and `team/` are two mounts, as in Vault): the
  // boundary finds the mount by the path's exact spelling, and the ACL judges that spelling.
  return {
    ...declared,
    access: {
      ...declared.access,
      mount: {
        ...routing,
        route: declared,
        // The catch-all as declared: its own handler, never one that looks for `served`.
        fallback: fallback?.access?.mount?.route ?? declared,
      },
    },
    handler: (request, reply) => (request.custos.served ?? declared).handler(request, reply),
  };
}

/**
 * Routes a group by mount: each of its routes is declared once with a `:mount` parameter
 * (`/v1/:mount/data/*`) and serves every mount of `engine`. The boundary finds the mount the
 * request path names in the current mount table (`RouteAccess.mount`); a request the router
 * matched to this group but whose mount another engine serves (a KV version 1 key `data/x`, a
 * path of no mount) is admitted and served by `catchAll`, the `/v1/:mount/*` route, instead.
 * The policy path stays the request's path, so a policy on `teams/a/kv/*` governs the mount at
 * `teams/a/kv/`.
 *
 * @example
 * ```ts
 * const catchAll = mountCatchAllRoute(deps);
 * registerRouteGroups(app, [mountedGroup('kv-2', kvDataPaths(kvOf), catchAll)]);
 * ```
 */
export function mountedGroup(
  engine: MountEngine,
  group: RouteGroup,
  catchAll: DeclaredRoute,
): RouteGroup {
  const serves = (mount: MountEntry | undefined) =>
    mount !== undefined && engineOf(mount) === engine;
  const under = engine === 'approle' ? 'auth/' : '';
  return {
    ...group,
    routes: group.routes.map((declared) => routedByMount(declared, { under, serves }, catchAll)),
  };
}

/**
 * The mount a request routed by mount was admitted for (the boundary found it).
 *
 * @example
 * ```ts
 * const kv = kvOf(mountOfRequest(request));
 * ```
 */
export function mountOfRequest(request: {
  custos: { mount?: MountEntry | undefined };
}): MountEntry {
  const mount = request.custos.mount;
  if (mount === undefined) throw new Error('a route routed by mount ran without its mount');
  return mount;
}

/** A route routed by mount, matched under a mount of several segments. */
export interface MountedMatch {
  /** The route as registered (its `access.mount` says how it serves mounts). */
  readonly route: DeclaredRoute;
  /** Its group's name (the metrics label). */
  readonly group: string;
  /** Its parameters, `mount` being the mount's path under `auth/` or not, without the `/`. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Finds the route that serves a request under a mount of several segments (`teams/a/kv/`):
 * the server's router reads only the first segment as the `:mount` parameter, so the rest of
 * the path is matched again against the routes routed by mount, as if the mount were one
 * segment. The same router (find-my-way, `ROUTER_OPTIONS`) reads it, so both readings agree.
 */
export interface MountRouter {
  /**
   * The route that serves `request` under `mount`, or undefined when none does (the mount's
   * catch-all serves it then). Throws 400 for a path whose mount segments are spelled other
   * than as the mount's (`teams/a%2Fkv/…`), or that the route reads differently (a `%2F` in a
   * `:param`).
   */
  find(request: FastifyRequest, mount: MountEntry): MountedMatch | undefined;
}

/** The `:mount` value the rest of a path is matched with (never a mount segment: see SEGMENT). */
const PLACEHOLDER = '_';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * Creates the router of the routes routed by mount of `groups` (those with `access.mount`).
 *
 * @example
 * ```ts
 * const mountRouter = createMountRouter(routeGroups(ctx));
 * mountRouter.find(request, await mounts.get('teams/a/kv/'))?.route;
 * ```
 */
export function createMountRouter(groups: readonly RouteGroup[]): MountRouter {
  const router = FindMyWay({ ...ROUTER_OPTIONS });
  interface Stored {
    readonly route: DeclaredRoute;
    readonly group: string;
    readonly pattern: string;
  }
  for (const group of groups) {
    for (const route of group.routes) {
      if (route.access?.mount === undefined) continue;
      const declared = typeof route.method === 'string' ? [route.method] : [...route.method];
      // As the server's router: PUT beside every POST (route-table.ts), HEAD beside every GET.
      const methods = new Set<string>(declared);
      if (methods.has('POST')) methods.add('PUT');
      if (methods.has('GET')) methods.add('HEAD');
      for (const pattern of typeof route.path === 'string' ? [route.path] : route.path) {
        const stored: Stored = { route, group: group.name, pattern };
        router.on([...methods] as FindMyWay.HTTPMethod[], pattern, () => undefined, stored);
      }
    }
  }

  return {
    find(request, mount) {
      const under = mount.path.startsWith('auth/') ? 'auth/' : '';
      const target = request.url.slice('/v1/'.length);
      const query = target.indexOf('?');
      const raw = (query === -1 ? target : target.slice(0, query)).split('/');
      const segments = mount.path.slice(0, -1).split('/');
      // The mount's segments, spelled as the mount's: a `%2F` would make them other segments.
      for (const [index, segment] of segments.entries()) {
        let decoded: string;
        try {
          decoded = decodeURIComponent(raw[index] ?? '');
        } catch {
          throw invalid('malformed URL encoding in path');
        }
        if (decoded !== segment)
          throw invalid('the path is not in canonical form (the router reads it differently)');
      }
      const rest = raw.slice(segments.length);
      const lookup = `/v1/${under}${PLACEHOLDER}${rest.length === 0 ? '' : `/${rest.join('/')}`}`;
      const found = router.find(request.method as FindMyWay.HTTPMethod, lookup);
      if (found === null) return undefined;
      const stored = found.store as Stored;
      const params = found.params as Record<string, string>;
      const reading = patternReading(stored.pattern, params);
      const expected = `${under}${PLACEHOLDER}${request.custos.path.slice(mount.path.length - 1)}`;
      if (reading !== expected)
        throw invalid('the path is not in canonical form (the router reads it differently)');
      return {
        route: stored.route,
        group: stored.group,
        params: { ...params, mount: mount.path.slice(under.length, -1) },
      };
    },
  };
}
