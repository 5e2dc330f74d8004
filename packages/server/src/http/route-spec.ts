import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FieldSchemas, type FieldValues, readFields } from './field-schema.js';
import type { RouteAccess } from './route-access.js';

/** The HTTP methods routes are declared with (PUT is added beside every POST: route-table.ts). */
export type RouteMethod = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE';

/** The `:name` parameters of a URL pattern, e.g. `'name' | 'version'`. */
type NamedParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | NamedParams<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** Every parameter of a URL pattern: its `:name`s, and `*` when it ends in one. */
type ParamsIn<P extends string> = NamedParams<P> | (P extends `${string}*` ? '*' : never);

/** The parameters every pattern of the union `P` has (the others are optional). */
type CommonParams<P extends string> = (
  P extends string
    ? (x: ParamsIn<P>) => void
    : never
) extends (x: infer Common) => void
  ? Common
  : never;

/**
 * The path parameters of a route served at the pattern(s) `P`: a parameter every pattern has
 * is a string, one only some patterns have may be missing.
 *
 * @example
 * ```ts
 * type P = PathParams<'/v1/transit/hmac/:name' | '/v1/transit/hmac/:name/:algorithm'>;
 * // { name: string; algorithm?: string }
 * ```
 */
export type PathParams<P extends string> = {
  readonly [K in CommonParams<P> & string]: string;
} & { readonly [K in Exclude<ParamsIn<P>, CommonParams<P>> & string]?: string };

/** A request to a route served at the pattern(s) `P`, its parameters and query typed. */
export type RouteRequest<P extends string = string> = FastifyRequest<{
  Params: PathParams<P>;
  Querystring: Readonly<Record<string, unknown>>;
}>;

/** No declared fields. */
type NoFields = Record<never, never>;

/**
 * A route's handler: it runs only for requests the boundary admitted, with the route's declared
 * fields read and coerced (`fields`).
 */
export type RouteHandler<P extends string = string, F extends FieldSchemas = NoFields> = (
  request: RouteRequest<P>,
  reply: FastifyReply,
  fields: FieldValues<F>,
) => Promise<unknown>;

/**
 * One route, declared: its method(s), URL pattern(s), how it is protected (enforced by the
 * boundary before the handler runs; see {@link RouteAccess}), its request fields (read from the
 * body or the query string before the handler runs; see field-schema.ts) and its handler.
 */
export interface RouteSpec<P extends string = string, F extends FieldSchemas = NoFields> {
  readonly method: RouteMethod | readonly RouteMethod[];
  /** The URL pattern, or several served alike (`…/hmac/:name` and `…/hmac/:name/:algorithm`). */
  readonly path: P | readonly P[];
  readonly access?: RouteAccess<RouteRequest<P>>;
  /** The request fields, by name (`field.int()`, `field.duration()`, …); others are ignored. */
  readonly fields?: F;
  readonly handler: RouteHandler<P, F>;
}

/** A declared route with its types erased, as a route group holds it. */
export interface DeclaredRoute {
  readonly method: RouteMethod | readonly RouteMethod[];
  readonly path: string | readonly string[];
  readonly access?: RouteAccess;
  readonly fields: FieldSchemas;
  /** Reads the declared fields, then runs the route's handler with them. */
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/**
 * Declares a route; the handler's `request.params` is typed from the pattern, its `fields` from
 * the declared field schemas.
 *
 * @example
 * ```ts
 * const trim = route({
 *   method: 'POST',
 *   path: '/v1/transit/keys/:name/trim',
 *   fields: { min_available_version: field.int() },
 *   handler: async (request, reply, { min_available_version }) =>
 *     ok(request, reply, await trimKey(request.params.name, min_available_version)),
 * });
 * ```
 */
export function route<const P extends string, const F extends FieldSchemas = NoFields>(
  spec: RouteSpec<P, F>,
): DeclaredRoute {
  const fields: FieldSchemas = spec.fields ?? {};
  const { access, handler } = spec;
  if (access !== undefined) checkAccess(spec.path, access as RouteAccess);
  return {
    method: spec.method,
    path: spec.path,
    ...(access === undefined ? {} : { access: access as RouteAccess }),
    fields,
    // Fastify types a route's request by its generic parameters only: these are the pattern's.
    handler: async (request, reply) =>
      handler(request as RouteRequest<P>, reply, readFields(fields, request) as FieldValues<F>),
  };
}

/**
 * Refuses a declaration the boundary would not honour: audit opt-out on a route that takes a
 * token or a signature (those are always audited), a signed route answering while sealed.
 */
function checkAccess(path: string | readonly string[], access: RouteAccess): void {
  const problem =
    access.audit === false && (access.unauthenticated !== true || access.signed !== undefined)
      ? 'audit: false is for unauthenticated routes only'
      : access.signed !== undefined && access.whileSealed === true
        ? 'a signed route cannot answer while sealed'
        : undefined;
  if (problem !== undefined) throw new Error(`route ${String(path)}: ${problem}`);
}

/**
 * The routes of one path group (one file, as a Vault backend's `path_*.go`), registered together
 * as one encapsulated Fastify plugin.
 */
export interface RouteGroup {
  /** What the group serves, e.g. `transit/encrypt`. */
  readonly name: string;
  readonly routes: readonly DeclaredRoute[];
  /**
   * How the group's errors (including the boundary's refusals) are answered, when its protocol
   * is not Vault's (the Secrets Manager API answers `{ __type, message }`).
   */
  readonly errorHandler?: (
    error: FastifyError,
    request: FastifyRequest,
    reply: FastifyReply,
  ) => unknown;
}

/**
 * Registers each group as its own encapsulated plugin, every route with its `access` and its
 * group's name as route config (where the boundary and the request metrics find them).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [encryptPaths(deps), decryptPaths(deps)]);
 * ```
 */
export function registerRouteGroups(app: FastifyInstance, groups: readonly RouteGroup[]): void {
  for (const group of groups) {
    void app.register(async (scope) => {
      if (group.errorHandler !== undefined) scope.setErrorHandler(group.errorHandler);
      for (const spec of group.routes) {
        const method = typeof spec.method === 'string' ? spec.method : [...spec.method];
        for (const url of typeof spec.path === 'string' ? [spec.path] : spec.path) {
          scope.route({
            method,
            url,
            config: {
              group: group.name,
              ...(spec.access === undefined ? {} : { access: spec.access }),
            },
            handler: spec.handler,
          });
        }
      }
    });
  }
}
