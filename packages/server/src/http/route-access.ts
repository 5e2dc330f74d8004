import type { FastifyRequest } from 'fastify';
import type { AuditIdentity, AuditRecord } from '../audit/audit-broker.js';
import type { TokenEntry } from '../auth/token-store.js';
import type { Acl } from '../policy/acl.js';
import type { Capability } from '../policy/policy-parse.js';
import type { MountEntry } from '../sys/mount-table.js';
import type { DeclaredRoute } from './route-spec.js';

/**
 * How a route is protected. Declared on every route (`access` in its route spec, route-spec.ts, kept as
 * `config.access`) and enforced once, at the boundary, before the handler runs.
 */
// biome-ignore lint/suspicious/noExplicitAny: a route declares `exists` for its own request type
export interface RouteAccess<Request extends FastifyRequest<any> = FastifyRequest> {
  /** No token needed (sys/init, sys/unseal, sys/health, approle login, …). */
  readonly unauthenticated?: boolean;
  /**
   * Answers while sealed (sys/seal-status, sys/unseal, …). Default false. A `signed` route is
   * always refused while sealed: declaring it otherwise is refused (`route`, route-spec.ts).
   */
  readonly whileSealed?: boolean;
  /** The capability needs `sudo` too (Vault's root-protected paths). */
  readonly sudo?: boolean;
  /**
   * For POST/PUT: whether the target exists, to require `update` rather than `create`.
   * Without it, writes require `update`, as in Vault.
   */
  readonly exists?: (request: Request) => Promise<boolean>;
  /**
   * `false`: neither the request nor its response is audited. Health checks opt out; only an
   * `unauthenticated` route that is not `signed` may: a request that carries a token or a
   * signature is always audited, and declaring it otherwise is refused (`route`).
   */
  readonly audit?: boolean;
  /**
   * The GET route answers LIST (`LIST`, `GET ?list=true`), judged as `list` on the path with a
   * trailing slash. On any other GET route a list request is refused (405) before the ACL, so
   * a `list` grant never reaches a handler that reads.
   */
  readonly list?: boolean;
  /**
   * Path parameters that name something with one canonical spelling, each with the check that
   * throws for any other (policy names are lower case). The boundary runs them before the ACL,
   * so a name is never judged in one spelling and served in another; handlers never normalise
   * a name they read from the path.
   */
  readonly names?: Readonly<Record<string, (value: string) => unknown>>;
  /**
   * The route reads its caller and its targets from a signed request instead of a token and
   * the URL path (the Secrets Manager API, SigV4): see {@link SignedAdmission}. Admission is
   * otherwise the same: sealed → refused, the ACL judged, the request audited first.
   */
  readonly signed?: SignedAdmission;
  /**
   * The route serves mounts of one engine (see `http/mount-routing.ts`): the boundary finds
   * the mount the request path names (the longest mount path it starts with) in the current
   * mount table before anything else is judged; for a mount of several segments it matches
   * the rest of the path against the routes of mounts again; and when the route's engine does
   * not serve the mount, it admits (and serves) the request as the mount's catch-all route.
   */
  readonly mount?: MountRouting;
  /**
   * A file of the dashboard (`/ui/`, ui/dashboard-routes.ts): the same static file for every
   * caller, built into the install, never data. The boundary admits such a request as it is:
   * no API path, no token, no ACL and no audit entry, also while sealed. The dashboard reads
   * everything it shows through the API, with the user's token.
   */
  readonly asset?: boolean;
}

/** How a route routed by mount is matched to the mount its request names. */
export interface MountRouting {
  /** Where the route's mounts sit (`auth/` for auth methods; `''` else). */
  readonly under: '' | 'auth/';
  /** Whether the route's engine serves `mount` (`undefined`: nothing is mounted there). */
  readonly serves: (mount: MountEntry | undefined) => boolean;
  /** The route as declared: what serves the request when its engine serves the mount. */
  readonly route: DeclaredRoute;
  /** The route that serves the request when this one does not (the mount catch-all). */
  readonly fallback: DeclaredRoute;
}

/** One check the ACL makes: a path (as a Vault request would name it) and a capability. */
export interface AclCheck {
  readonly path: string;
  readonly operation: Capability;
}

/** The caller of a signed request, as the boundary and the audit log know it. */
export interface SignedCaller {
  /** What the audit log records (HMAC'd) as the client token: the access key id. */
  readonly credential: string;
  readonly identity: AuditIdentity;
  readonly policies: readonly string[];
}

/** How a route that signs its requests is admitted by the boundary. */
export interface SignedAdmission {
  /**
   * The path and operation the audit log records, and every check the ACL must pass, read
   * from the request without storage. Throws for a malformed request (before the audit).
   */
  judge(request: FastifyRequest): {
    readonly path: string;
    readonly operation: Capability;
    readonly checks: readonly AclCheck[];
  };
  /** Authenticates the request (signature, time, key); throws to refuse it. */
  authenticate(request: FastifyRequest): Promise<SignedCaller>;
  /**
   * Optional: once the caller is authenticated (and only then, so an anonymous caller makes
   * the server read nothing), the audited path and checks made concrete with storage — the
   * KMS API resolves aliases to the keys they name here. Undefined keeps `judge`'s.
   */
  resolve?(request: FastifyRequest): Promise<
    | {
        readonly path: string;
        readonly operation: Capability;
        readonly checks: readonly AclCheck[];
      }
    | undefined
  >;
  /** The response body as the audit log's response block reads it (`data`, `errors`). */
  auditBody(status: number, body: unknown): unknown;
  /**
   * What the audit log records of a request whose signature does not hold, in place of what
   * `judge` read from its (unsigned) body: the API's own path, and the access key the request
   * claims (HMAC'd in the entry as any token), when its signature header could be read.
   */
  refused(request: FastifyRequest): { readonly path: string; readonly credential?: string };
}

/** What the boundary attaches to each request. */
export interface RequestState {
  /** The API path after `/v1/`, decoded, e.g. `secret/data/app/db`. */
  path: string;
  operation: Capability;
  token?: string | undefined;
  entry?: TokenEntry | undefined;
  /** The client's address (see `clientAddressOf` in boundary.ts); undefined if unknown. */
  clientAddress?: string | undefined;
  /** The caller of a signed request (no token entry). */
  identity?: AuditIdentity | undefined;
  acl?: Acl | undefined;
  /**
   * The caller did not authenticate (its token or signature did not hold): the request is
   * audited without its body. Nobody answers for that body, and its keys (written in clear)
   * and values (~80 bytes each) could otherwise fill the audit log (found by an outside probe).
   */
  auditWithoutBody?: boolean | undefined;
  /** Set once the request entry was written to the audit log (its response entry reuses it). */
  audit?: AuditRecord | undefined;
  /** The wrap TTL the request asked for (`X-Vault-Wrap-TTL`), read once it was admitted. */
  wrapTtl?: number | undefined;
  /** The mount the request names (routes routed by mount), from the current mount table. */
  mount?: MountEntry | undefined;
  /**
   * The route that serves a request routed by mount (set by the boundary): the matched one,
   * the one matched again under a mount of several segments, or the mount catch-all.
   */
  served?: DeclaredRoute | undefined;
  /** The route group of `served` when it is not the matched route's (the metrics label). */
  group?: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** The name of the route group the route belongs to (metrics label requests by it). */
    group?: string;
  }
  interface FastifyRequest {
    custos: RequestState;
  }
}

/**
 * The operation a request performs, as Vault names it, before storage is asked anything: a
 * POST/PUT is `update` until {@link resolveWriteOperation} finds the target missing.
 */
export function operationOf(request: FastifyRequest): Capability {
  switch (request.method) {
    case 'GET':
    case 'HEAD':
      return isListRequest(request) ? 'list' : 'read';
    case 'POST':
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'read';
  }
}

/**
 * For a POST/PUT on a route that declares `exists`: `create` when the target is missing, else
 * `update`. Asks storage, so the boundary calls it only for an authenticated caller.
 */
export async function resolveWriteOperation(
  request: FastifyRequest,
  access: RouteAccess,
  operation: Capability,
): Promise<Capability> {
  if (operation !== 'update' || access.exists === undefined) return operation;
  return (await access.exists(request)) ? 'update' : 'create';
}

/** `LIST` arrives as `GET ?list=true` (see list-method.ts); `?list=1` is accepted too. */
export function isListRequest(request: FastifyRequest): boolean {
  const list = (request.query as Record<string, unknown> | undefined)?.list;
  return list === 'true' || list === '1';
}

/**
 * The path the ACL judges for `operation` on `path`: a list is judged on the folder, the path
 * with a trailing slash (as Vault does).
 *
 * @example
 * ```ts
 * aclPathOf('secret/metadata/app', 'list'); // 'secret/metadata/app/'
 * ```
 */
export function aclPathOf(path: string, operation: Capability): string {
  return operation === 'list' && !path.endsWith('/') ? `${path}/` : path;
}
