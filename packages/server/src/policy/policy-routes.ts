import { CustosError } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { envelope, noContent, ok } from '../http/envelope.js';
import { isListRequest } from '../http/route-access.js';
import { validatePolicyName } from './policy-parse.js';

const nameOf = (request: FastifyRequest) => (request.params as { name: string }).name;

/**
 * Policy names have one spelling, lower case: another is refused before the ACL looks at the
 * path (lower-casing it afterwards let a token denied `sys/policies/acl/default` write
 * `…/Default`, the policy every token carries).
 */
const access = { names: { name: validatePolicyName } };

function policyText(body: Record<string, unknown>): string {
  const text = body.policy ?? body.rules;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      "missing 'policy' (the policy document, Vault's JSON form)",
    );
  }
  return text;
}

/**
 * ACL policies at `/v1/sys/policies/acl/:name`, and the older `/v1/sys/policy/:name` that some
 * clients (node-vault) still use.
 *
 * @example
 * ```ts
 * registerPolicyRoutes(app, ctx);
 * ```
 */
export function registerPolicyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  for (const base of ['/v1/sys/policies/acl', '/v1/sys/policy']) {
    // The older sys/policy endpoints also answer with their fields at the top level.
    const legacy = base === '/v1/sys/policy';
    app.get(base, { config: { access: { list: true } } }, async (request, reply) => {
      const keys = await ctx.policies.list();
      if (legacy)
        return reply.send({
          keys,
          policies: keys,
          ...envelope(request.id, { keys, policies: keys }),
        });
      if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
      return ok(request, reply, { keys, policies: keys });
    });
    app.get(`${base}/:name`, { config: { access } }, async (request, reply) => {
      const name = nameOf(request);
      const text = name === 'root' ? '' : (await ctx.policies.get(name))?.text;
      if (text === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
      const data = { name, policy: text, rules: text };
      if (legacy) return reply.send({ name, rules: text, ...envelope(request.id, data) });
      return ok(request, reply, data);
    });
    app.route({
      method: 'POST',
      url: `${base}/:name`,
      config: {
        access: {
          ...access,
          exists: async (r) => (await ctx.policies.get(nameOf(r))) !== undefined,
        },
      },
      handler: async (request, reply) => {
        await ctx.policies.put(nameOf(request), policyText(bodyOf(request)));
        return noContent(reply);
      },
    });
    app.delete(`${base}/:name`, { config: { access } }, async (request, reply) => {
      await ctx.policies.delete(nameOf(request));
      return noContent(reply);
    });
  }
}
