import { CustosError, PermissionDenied } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { noContent, ok } from '../http/envelope.js';
import { parseDurationSeconds } from '../lib/duration.js';
import { count, flag, stringList, stringMap } from './params.js';
import { authBlock, lookupData } from './token-response.js';
import type { TokenEntry } from './token-store.js';

function caller(request: FastifyRequest): TokenEntry {
  return request.custos.entry as TokenEntry;
}

function stringParam(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new CustosError('ERR_INVALID_REQUEST', `missing ${field}`);
  }
  return value;
}

/**
 * The token auth method at `/v1/auth/token/…`: create, lookup(-self), renew(-self),
 * revoke(-self), and the accessor variants.
 *
 * @example
 * ```ts
 * registerTokenRoutes(app, ctx);
 * ```
 */
export function registerTokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const base = '/v1/auth/token';

  app.post(`${base}/create`, async (request, reply) => {
    const body = bodyOf(request);
    const parent = caller(request);
    const isRootParent = parent.policies.includes('root');
    const requested = stringList(body.policies, 'policies');
    let policies = requested.length > 0 ? requested : parent.policies;
    if (!isRootParent && !policies.every((p) => parent.policies.includes(p))) {
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        "child policies must be a subset of the parent's policies",
      );
    }
    if (!flag(body.no_default_policy, 'no_default_policy', false) && !policies.includes('root')) {
      policies = [...new Set([...policies, 'default'])];
    }
    const orphan = flag(body.no_parent, 'no_parent', false);
    if (orphan && !request.custos.acl?.allows('auth/token/create', 'sudo')) {
      throw new CustosError(
        'ERR_PERMISSION_DENIED',
        'creating orphan tokens needs sudo on auth/token/create',
      );
    }
    if (body.id !== undefined && !isRootParent) {
      throw new CustosError('ERR_PERMISSION_DENIED', 'only root tokens may choose a token id');
    }
    if (body.period !== undefined)
      throw new CustosError('ERR_INVALID_REQUEST', 'periodic tokens are not supported');
    const { token, entry } = await ctx.tokens.create({
      policies,
      ...(body.ttl === undefined ? {} : { ttlSeconds: parseDurationSeconds(body.ttl, 'ttl') }),
      ...(body.explicit_max_ttl === undefined
        ? {}
        : {
            explicitMaxTtlSeconds: parseDurationSeconds(body.explicit_max_ttl, 'explicit_max_ttl'),
          }),
      renewable: flag(body.renewable, 'renewable', true),
      numUses: body.num_uses === undefined ? 0 : count(body.num_uses, 'num_uses'),
      displayName: typeof body.display_name === 'string' ? `token-${body.display_name}` : 'token',
      meta: stringMap(body.meta, 'meta'),
      parent,
      orphan,
      path: 'auth/token/create',
      ...(typeof body.id === 'string' ? { id: body.id } : {}),
    });
    return ok(request, reply, null, { auth: authBlock(token, entry) });
  });

  app.get(`${base}/lookup-self`, async (request, reply) =>
    ok(request, reply, lookupData(caller(request), request.custos.token)),
  );

  app.post(`${base}/lookup`, async (request, reply) => {
    const token = stringParam(bodyOf(request), 'token');
    const entry = await ctx.tokens.lookup(token);
    if (entry === undefined) throw new CustosError('ERR_INVALID_REQUEST', 'bad token');
    return ok(request, reply, lookupData(entry, token));
  });

  app.post(`${base}/lookup-accessor`, async (request, reply) => {
    const entry = await ctx.tokens.byAccessor(stringParam(bodyOf(request), 'accessor'));
    if (entry === undefined) throw new CustosError('ERR_INVALID_REQUEST', 'invalid accessor');
    return ok(request, reply, lookupData(entry));
  });

  const increment = (body: Record<string, unknown>) =>
    body.increment === undefined ? undefined : parseDurationSeconds(body.increment, 'increment');

  app.post(`${base}/renew-self`, async (request, reply) => {
    const renewed = await ctx.tokens.renew(caller(request), increment(bodyOf(request)));
    return ok(request, reply, null, { auth: authBlock(request.custos.token as string, renewed) });
  });

  app.post(`${base}/renew`, async (request, reply) => {
    const body = bodyOf(request);
    const token = stringParam(body, 'token');
    const entry = await ctx.tokens.lookup(token);
    if (entry === undefined) throw new PermissionDenied();
    const renewed = await ctx.tokens.renew(entry, increment(body));
    return ok(request, reply, null, { auth: authBlock(token, renewed) });
  });

  app.post(`${base}/revoke-self`, async (request, reply) => {
    await ctx.tokens.revoke(caller(request));
    return noContent(reply);
  });

  app.post(`${base}/revoke`, async (request, reply) => {
    const entry = await ctx.tokens.lookup(stringParam(bodyOf(request), 'token'));
    if (entry !== undefined) await ctx.tokens.revoke(entry);
    return noContent(reply);
  });

  app.post(`${base}/revoke-accessor`, async (request, reply) => {
    const entry = await ctx.tokens.byAccessor(stringParam(bodyOf(request), 'accessor'));
    if (entry !== undefined) await ctx.tokens.revoke(entry);
    return noContent(reply);
  });
}
