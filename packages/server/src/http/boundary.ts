import { isCustosError, PermissionDenied } from '@custos/core/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditRequest } from '../audit/audit-broker.js';
import type { ServerContext } from '../context.js';
import { groupOf } from '../metrics/request-metrics.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { isAuthMount, mountOf } from '../sys/mounts.js';
import { MOUNT_CATCH_ALL_GROUP } from '../sys/paths/mount-catch-all.js';
import { wrapPayload } from '../wrapping/wrap-response.js';
import { wrapTtlOf } from '../wrapping/wrap-ttl.js';
import { apiPathOf } from './api-path.js';
import { isBodyHeld, parseHeldBody, refuseHeldBody } from './body-parser.js';
import { cidrList, clientAddress } from './client-address.js';
import { HttpResponseError, toHttpError } from './error-mapping.js';
import type { MountRouter } from './mount-routing.js';
import { forgetReply, replyBodyOf, serializeReply } from './reply-body.js';
import {
  type AclCheck,
  aclPathOf,
  type MountRouting,
  operationOf,
  type RouteAccess,
  resolveWriteOperation,
  type SignedAdmission,
} from './route-access.js';

const TOKEN_HEADER = 'x-vault-token';

/** Vault's answer to an operation a path does not have (a list request on a route that reads). */
const unsupportedOperation = () =>
  new HttpResponseError(405, { errors: ['unsupported operation'] });

/** The token of a request: `X-Vault-Token`, or `Authorization: Bearer …`. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers[TOKEN_HEADER];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = request.headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  // The scheme, matched once: what follows it is the token.
  const scheme = /^Bearer\s+/i.exec(authorization);
  return scheme === null ? undefined : authorization.slice(scheme[0].length);
}

function auditRequestOf(request: FastifyRequest): AuditRequest {
  const state = request.custos;
  return {
    id: request.id,
    operation: state.operation,
    path: state.path,
    remoteAddress: request.ip,
    token: state.token,
    entry: state.entry ?? state.identity,
    data: state.auditWithoutBody === true ? null : (request.body ?? null),
  };
}

/** What the boundary uses: the seal state, tokens, policies and the audit log. */
export type BoundaryDeps = Pick<
  ServerContext,
  'seal' | 'tokens' | 'policies' | 'audit' | 'wrapping' | 'mounts' | 'trustedProxies'
> & {
  /** Where refusals are counted (authentication failures, permission denials). */
  readonly metrics?: Pick<ServerMetrics, 'authenticationFailed' | 'permissionDenied'>;
};

/**
 * The client address of an admitted request (the boundary sets it: the peer, or what a trusted
 * proxy says in `X-Forwarded-For`); undefined when it cannot be known.
 */
export function clientAddressOf(request: FastifyRequest): string | undefined {
  return request.custos?.clientAddress;
}

/**
 * The one place where a request is admitted: sealed or not, whose token, what its policies
 * allow on this path, and the audit entry written before anything else happens. Handlers run
 * only for admitted requests and find the caller in `request.custos`.
 */
export function registerBoundary(
  app: FastifyInstance,
  ctx: BoundaryDeps,
  /** Matches requests under mounts of several segments again (`createMountRouter`). */
  mountRouter: MountRouter,
): void {
  app.decorateRequest('custos', null as never);
  // The audit takes a response's body from the object it was serialised from (reply-body.ts).
  app.setReplySerializer(serializeReply);
  const trusted = cidrList(ctx.trustedProxies, 'trustedProxies');

  app.addHook('preHandler', async (request: FastifyRequest) => {
    let access: RouteAccess = request.routeOptions.config.access ?? {};
    if (access.asset === true) return;
    if (access.signed !== undefined) return admitSigned(request, access.signed, ctx);
    const path = apiPathOf(request);
    checkNames(request, access);
    request.custos = {
      path,
      operation: 'read',
      clientAddress: clientAddress(
        request.socket.remoteAddress,
        request.headers['x-forwarded-for'],
        trusted,
      ),
    };
    // Sealed, not initialised, or an unseal or seal in progress: refused (503) before anything.
    if (!access.whileSealed) ctx.seal.requireUnsealed();
    if (access.mount !== undefined)
      access = await admitMount(request, access.mount, ctx, mountRouter);
    const operation = operationOf(request);
    if (operation === 'list' && access.list !== true) throw unsupportedOperation();
    request.custos.operation = operation;
    if (access.unauthenticated) {
      // Nobody answers for a held body here (many values, long keys: body-parser.ts): refused
      // unread.
      refuseHeldBody(request);
      // Whatever token came is recorded (HMAC'd), as Vault does: unwrapping sends the
      // wrapping token as the request's token.
      request.custos.token = tokenOf(request);
      request.custos.operation = await resolveWriteOperation(request, access, operation);
      if (access.audit !== false && ctx.seal.isUnsealed()) await logRequest(request, ctx);
      request.custos.wrapTtl = wrapTtlOf(request);
      return;
    }
    const token = tokenOf(request);
    request.custos.token = token;
    let denied: unknown;
    let authenticated = false;
    try {
      // A token bound to CIDR blocks is refused from outside them, before a use is spent.
      const entry = await ctx.tokens.authenticate(token, request.custos.clientAddress);
      request.custos.entry = entry;
      authenticated = true;
      // A held body (many values, long keys) is parsed only now, its caller known and a use of
      // the token spent: a token that died while the body was on its way, or that is refused
      // from this address, cannot buy its HMACs (found by an outside probe).
      parseHeldBody(request);
      // Only now may storage be asked whether the target exists: an anonymous caller makes the
      // server read (and cache) nothing.
      request.custos.operation = await resolveWriteOperation(request, access, operation);
      const acl = await ctx.policies.aclFor(entry.policies);
      request.custos.acl = acl;
      const decision = acl.decide(
        aclPathOf(path, request.custos.operation),
        request.custos.operation,
        {
          sudo: access.sudo === true,
          data: parametersOf(request),
        },
      );
      if (!decision.allowed) throw new PermissionDenied();
    } catch (err) {
      denied = err;
      if (!authenticated) request.custos.auditWithoutBody = true;
      if (isCustosError(err, 'ERR_PERMISSION_DENIED')) {
        if (authenticated) ctx.metrics?.permissionDenied(groupOf(request));
        else ctx.metrics?.authenticationFailed(token === undefined ? 'missing_token' : 'bad_token');
      }
    }
    // A request that carries a token is always audited (`audit: false` is for health checks).
    await logRequest(request, ctx);
    if (denied !== undefined) throw denied;
    // Read once admitted (and audited): a malformed wrap TTL is refused before the handler runs.
    request.custos.wrapTtl = wrapTtlOf(request);
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, sent: unknown) => {
    let payload = sent;
    const wrapTtl = request.custos?.wrapTtl;
    if (wrapTtl !== undefined && reply.statusCode === 200) {
      // The response goes behind the barrier; the client (and the audit log) get wrap_info.
      try {
        payload = await wrapPayload(ctx.wrapping, request, payload, wrapTtl);
      } catch (err) {
        // Only a JSON envelope is wrapped: the reply is JSON already.
        const { status, body: errorBody } = toHttpError(err);
        reply.code(status);
        payload = JSON.stringify(errorBody);
      }
    }
    const record = request.custos?.audit;
    if (record === undefined) {
      forgetReply();
      return payload;
    }
    let body = replyBodyOf(payload);
    const signed = request.routeOptions.config.access?.signed;
    if (signed !== undefined) body = signed.auditBody(reply.statusCode, body);
    try {
      await ctx.audit.logResponse(record, reply.statusCode, body);
      return payload;
    } catch (err) {
      // The response could not be recorded: it is not sent (as Vault does).
      const { status, body: errorBody } = toHttpError(err);
      reply.code(status);
      reply.header('content-type', 'application/json');
      return JSON.stringify(errorBody);
    }
  });
}

/**
 * Admission of a signed request (see `SignedAdmission`): sealed → refused (always: a signed
 * route reads keys); its checks read from the request; the caller authenticated; every check
 * judged by the caller's ACL; the request audited (always, also when refused) before the
 * handler runs.
 */
async function admitSigned(
  request: FastifyRequest,
  signed: SignedAdmission,
  ctx: BoundaryDeps,
): Promise<void> {
  // Audited under the API's own path until `judge` reads what the request does (a request it
  // finds malformed stays there).
  request.custos = { path: signed.refused(request).path, operation: 'read' };
  ctx.seal.requireUnsealed();
  // A request `judge` finds malformed is refused only after its caller is authenticated: an
  // anonymous caller learns nothing about what a valid operation would be. (A body that is not
  // JSON at all is refused earlier, by the body parser, with fixed words.) Audited either way.
  let malformed: unknown;
  let checks: readonly AclCheck[] = [];
  const judge = () => {
    try {
      const judged = signed.judge(request);
      request.custos.path = judged.path;
      request.custos.operation = judged.operation;
      checks = judged.checks;
    } catch (err) {
      malformed = err;
    }
  };
  // A held body (many values, long keys) is parsed (and judged) only once the signature holds.
  const held = isBodyHeld(request);
  if (!held) judge();
  let denied: unknown;
  let authenticated = false;
  try {
    const caller = await signed.authenticate(request);
    authenticated = true;
    request.custos.token = caller.credential;
    request.custos.identity = caller.identity;
    if (held) {
      parseHeldBody(request);
      judge();
    }
    if (malformed !== undefined) throw malformed;
    const resolved = await signed.resolve?.(request);
    if (resolved !== undefined) {
      request.custos.path = resolved.path;
      request.custos.operation = resolved.operation;
      checks = resolved.checks;
    }
    const acl = await ctx.policies.aclFor([...caller.policies]);
    request.custos.acl = acl;
    for (const check of checks) {
      if (!acl.allowsWithoutParameters(check.path, check.operation)) throw new PermissionDenied();
    }
  } catch (err) {
    denied = err;
    if (!authenticated) {
      // Nothing read from an unsigned body reaches the audit log: not its values, not the
      // secret or key it names as the path (found by an outside probe).
      request.custos.auditWithoutBody = true;
      const refused = signed.refused(request);
      request.custos.path = refused.path;
      request.custos.token = refused.credential;
      ctx.metrics?.authenticationFailed('bad_signature');
    } else if (err instanceof PermissionDenied) ctx.metrics?.permissionDenied(groupOf(request));
  }
  await logRequest(request, ctx);
  if (denied !== undefined) throw denied;
}

/**
 * Finds the mount a request routed by mount names (the longest mount path its path starts
 * with, among auth methods under `auth/`, among secrets engines else) in the current mount
 * table, the route that serves it (`request.custos.served`), and the access it is admitted
 * with: the matched route's when its engine serves the mount; under a mount of several
 * segments, the route the rest of the path matches (`MountRouter`), with its parameters; and
 * when the engine of neither serves it, the mount's catch-all route's (KV version 1, the
 * cubbyhole, or a 404 naming the path).
 */
async function admitMount(
  request: FastifyRequest,
  matched: MountRouting,
  ctx: BoundaryDeps,
  mountRouter: MountRouter,
): Promise<RouteAccess> {
  const auth = matched.under === 'auth/';
  const mounts = (await ctx.mounts.list()).filter((m) => isAuthMount(m) === auth);
  const mount = mountOf(mounts, request.custos.path);
  request.custos.mount = mount;
  let routing = matched;
  let access = request.routeOptions.config.access ?? {};
  const named = (request.params as Record<string, string | undefined>).mount;
  if (mount !== undefined && mount.path !== `${matched.under}${named}/`) {
    // The router read only the mount's first segment as `:mount`: the rest is matched again.
    const found = mountRouter.find(request, mount);
    if (found?.route.access?.mount === undefined) return serveFallback(request, routing);
    routing = found.route.access.mount;
    access = found.route.access;
    request.params = found.params;
    request.custos.group = found.group;
    checkNames(request, access);
  }
  if (!routing.serves(mount)) return serveFallback(request, routing);
  request.custos.served = routing.route;
  return access;
}

/** The request is served (and admitted) as the mount catch-all route. */
function serveFallback(request: FastifyRequest, routing: MountRouting): RouteAccess {
  request.custos.served = routing.fallback;
  request.custos.group = MOUNT_CATCH_ALL_GROUP;
  return routing.fallback.access ?? {};
}

/**
 * The parameters a policy's `allowed_parameters` / `denied_parameters` / `required_parameters`
 * judge, as Vault's request data: a write's body (its top-level keys), a read's query string.
 */
function parametersOf(request: FastifyRequest): unknown {
  if (request.method === 'GET' || request.method === 'HEAD') return request.query ?? {};
  return request.body ?? {};
}

/** Refuses a path parameter that is not in its canonical spelling (see `RouteAccess.names`). */
function checkNames(request: FastifyRequest, access: RouteAccess): void {
  const params = request.params as Record<string, string | undefined>;
  for (const [param, check] of Object.entries(access.names ?? {})) {
    const value = params[param];
    if (value !== undefined) check(value);
  }
}

async function logRequest(request: FastifyRequest, ctx: BoundaryDeps): Promise<void> {
  if (!ctx.audit.enabled) return;
  request.custos.audit = await ctx.audit.logRequest(auditRequestOf(request));
}
