import { CustosError } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { noContent, ok } from '../http/envelope.js';
import { boolOr, durationField, intField, stringList, stringMap } from '../http/fields.js';
import { isListRequest } from '../http/route-access.js';
import type { ApproleRole } from './approle-store.js';
import { authBlock } from './token-response.js';

const nameOf = (request: FastifyRequest) => (request.params as { name: string }).name;

function roleInput(body: Record<string, unknown>): Partial<ApproleRole> {
  const input: Partial<ApproleRole> = {};
  if (body.token_policies !== undefined || body.policies !== undefined) {
    input.token_policies = stringList(body.token_policies ?? body.policies, 'token_policies');
  }
  if (body.token_ttl !== undefined) input.token_ttl = durationField(body.token_ttl, 'token_ttl');
  if (body.token_max_ttl !== undefined)
    input.token_max_ttl = durationField(body.token_max_ttl, 'token_max_ttl');
  if (body.token_num_uses !== undefined)
    input.token_num_uses = intField(body.token_num_uses, 'token_num_uses');
  if (body.secret_id_num_uses !== undefined)
    input.secret_id_num_uses = intField(body.secret_id_num_uses, 'secret_id_num_uses');
  if (body.secret_id_ttl !== undefined)
    input.secret_id_ttl = durationField(body.secret_id_ttl, 'secret_id_ttl');
  if (body.bind_secret_id !== undefined)
    input.bind_secret_id = boolOr(body.bind_secret_id, 'bind_secret_id', true);
  return input;
}

/**
 * The AppRole auth method at `/v1/auth/approle/…`.
 *
 * @example
 * ```ts
 * registerApproleRoutes(app, ctx);
 * ```
 */
export function registerApproleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const base = '/v1/auth/approle';

  app.get(`${base}/role`, { config: { access: { list: true } } }, async (request, reply) => {
    if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
    const keys = await ctx.approles.listRoles();
    if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
    return ok(request, reply, { keys });
  });

  app.route({
    method: 'POST',
    url: `${base}/role/:name`,
    config: {
      access: { exists: async (r) => (await ctx.approles.getRole(nameOf(r))) !== undefined },
    },
    handler: async (request, reply) => {
      await ctx.approles.putRole(nameOf(request), roleInput(bodyOf(request)));
      return noContent(reply);
    },
  });

  app.get(`${base}/role/:name`, async (request, reply) => {
    const role = await ctx.approles.getRole(nameOf(request));
    if (role === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
    const { role_id: _hidden, ...settings } = role;
    return ok(request, reply, { ...settings, policies: role.token_policies });
  });

  app.delete(`${base}/role/:name`, async (request, reply) => {
    await ctx.approles.deleteRole(nameOf(request));
    return noContent(reply);
  });

  app.get(`${base}/role/:name/role-id`, async (request, reply) => {
    const role = await ctx.approles.getRole(nameOf(request));
    if (role === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
    return ok(request, reply, { role_id: role.role_id });
  });

  app.route({
    method: 'POST',
    url: `${base}/role/:name/role-id`,
    handler: async (request, reply) => {
      const roleId = bodyOf(request).role_id;
      if (typeof roleId !== 'string' || roleId.length < 8 || roleId.length > 256) {
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          'role_id must be a string of 8 to 256 characters',
        );
      }
      if ((await ctx.approles.getRole(nameOf(request))) === undefined) {
        throw new CustosError('ERR_NOT_FOUND', 'not found');
      }
      await ctx.approles.putRole(nameOf(request), { role_id: roleId });
      return noContent(reply);
    },
  });

  app.route({
    method: 'POST',
    url: `${base}/role/:name/secret-id`,
    handler: async (request, reply) => {
      const metadata = stringMap(bodyOf(request).metadata, 'metadata');
      return ok(request, reply, await ctx.approles.createSecretId(nameOf(request), metadata));
    },
  });

  app.route({
    method: 'POST',
    url: `${base}/login`,
    config: { access: { unauthenticated: true } },
    handler: async (request, reply) => {
      const body = bodyOf(request);
      const { name, role } = await ctx.approles.login(body.role_id, body.secret_id);
      const { token, entry } = await ctx.tokens.create({
        policies: [...new Set([...role.token_policies.filter((p) => p !== 'root'), 'default'])],
        ...(role.token_ttl > 0 ? { ttlSeconds: role.token_ttl } : {}),
        ...(role.token_max_ttl > 0 ? { explicitMaxTtlSeconds: role.token_max_ttl } : {}),
        numUses: role.token_num_uses,
        displayName: `approle-${name}`,
        meta: { role_name: name },
        orphan: true,
        path: 'auth/approle/login',
      });
      return ok(request, reply, null, { auth: authBlock(token, entry, ctx.tokens.now()) });
    },
  });
}
