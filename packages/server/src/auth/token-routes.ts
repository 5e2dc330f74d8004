import { CustosError, PermissionDenied } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { noContent, ok } from '../http/envelope.js';
import {
  boolOr,
  durationField,
  intField,
  optionalDuration,
  requiredString,
  stringList,
  stringMap,
} from '../http/fields.js';
import { authBlock, lookupData } from './token-response.js';
import type { TokenEntry } from './token-store.js';

function caller(request: FastifyRequest): TokenEntry {
  return request.custos.entry as TokenEntry;
}

/**
 * The token auth method at `/v1/auth/token/…`: create, lookup(-self), renew(-self),
 * revoke(-self), and the accessor variants. Lifetimes and the token tree are enforced by the
 * token store (see `NOTES.md`).
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
    if (!boolOr(body.no_default_policy, 'no_default_policy', false) && !policies.includes('root')) {
      policies = [...new Set([...policies, 'default'])];
    }
    const orphan = boolOr(body.no_parent, 'no_parent', false);
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
      ...(body.ttl === undefined ? {} : { ttlSeconds: durationField(body.ttl, 'ttl') }),
      ...(body.explicit_max_ttl === undefined
        ? {}
        : {
            explicitMaxTtlSeconds: durationField(body.explicit_max_ttl, 'explicit_max_ttl'),
          }),
      renewable: boolOr(body.renewable, 'renewable', true),
      numUses: body.num_uses === undefined ? 0 : intField(body.num_uses, 'num_uses'),
      displayName: typeof body.display_name === 'string' ? `token-${body.display_name}` : 'token',
      meta: stringMap(body.meta, 'meta'),
      parent,
      orphan,
      path: 'auth/token/create',
      ...(typeof body.id === 'string' ? { id: body.id } : {}),
    });
    return ok(request, reply, null, { auth: authBlock(token, entry, ctx.tokens.now()) });
  });

  app.get(`${base}/lookup-self`, async (request, reply) =>
    ok(request, reply, lookupData(caller(request), ctx.tokens.now(), request.custos.token)),
  );

  app.post(`${base}/lookup`, async (request, reply) => {
    const token = requiredString(bodyOf(request).token, 'token');
    const entry = await ctx.tokens.lookup(token);
    if (entry === undefined) throw new CustosError('ERR_INVALID_REQUEST', 'bad token');
    return ok(request, reply, lookupData(entry, ctx.tokens.now(), token));
  });

  app.post(`${base}/lookup-accessor`, async (request, reply) => {
    const entry = await ctx.tokens.byAccessor(requiredString(bodyOf(request).accessor, 'accessor'));
    if (entry === undefined) throw new CustosError('ERR_INVALID_REQUEST', 'invalid accessor');
    return ok(request, reply, lookupData(entry, ctx.tokens.now()));
  });

  const increment = (body: Record<string, unknown>) =>
    optionalDuration(body.increment, 'increment');

  const renewed = async (entry: TokenEntry | undefined, body: Record<string, unknown>) => {
    if (entry === undefined) throw new PermissionDenied();
    return ctx.tokens.renew(entry, increment(body));
  };

  app.post(`${base}/renew-self`, async (request, reply) => {
    const entry = await renewed(caller(request), bodyOf(request));
    const auth = authBlock(request.custos.token as string, entry, ctx.tokens.now());
    return ok(request, reply, null, { auth });
  });

  app.post(`${base}/renew`, async (request, reply) => {
    const body = bodyOf(request);
    const token = requiredString(body.token, 'token');
    const entry = await renewed(await ctx.tokens.lookup(token), body);
    return ok(request, reply, null, { auth: authBlock(token, entry, ctx.tokens.now()) });
  });

  app.post(`${base}/renew-accessor`, async (request, reply) => {
    const body = bodyOf(request);
    const entry = await renewed(
      await ctx.tokens.byAccessor(requiredString(body.accessor, 'accessor')),
      body,
    );
    // Named by accessor: the token itself is not returned (as Vault).
    return ok(request, reply, null, { auth: authBlock('', entry, ctx.tokens.now()) });
  });

  app.post(`${base}/revoke-self`, async (request, reply) => {
    await ctx.tokens.revoke(caller(request));
    return noContent(reply);
  });

  // Revocation does not need a live token: an expired one (or one whose parent died) is
  // removed with its tree at once instead of waiting for the sweeper.
  app.post(`${base}/revoke`, async (request, reply) => {
    await ctx.tokens.revokeToken(requiredString(bodyOf(request).token, 'token'));
    return noContent(reply);
  });

  app.post(`${base}/revoke-accessor`, async (request, reply) => {
    await ctx.tokens.revokeAccessor(requiredString(bodyOf(request).accessor, 'accessor'));
    return noContent(reply);
  });
}
