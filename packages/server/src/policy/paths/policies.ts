import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { envelope, noContent, ok } from '../../http/envelope.js';
import { isListRequest } from '../../http/route-access.js';
import { type DeclaredRoute, type RouteGroup, route } from '../../http/route-spec.js';
import { validatePolicyName } from '../policy-parse.js';
import type { PolicyStore } from '../policy-store.js';

/**
 * Policy names have one spelling, lower case: another is refused before the ACL looks at the
 * path (lower-casing it afterwards let a token denied `sys/policies/acl/default` write
 * `…/Default`, the policy every token carries).
 */
const names = { name: validatePolicyName };

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

/** The routes under one base; the older `sys/policy` also answers with its fields at the top. */
function policyRoutes(
  base: '/v1/sys/policies/acl' | '/v1/sys/policy',
  policies: PolicyStore,
): DeclaredRoute[] {
  const legacy = base === '/v1/sys/policy';
  return [
    route({
      method: 'GET',
      path: base,
      access: { list: true },
      handler: async (request, reply) => {
        const keys = await policies.list();
        if (legacy)
          return reply.send({
            keys,
            policies: keys,
            ...envelope(request, { keys, policies: keys }),
          });
        if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
        return ok(request, reply, { keys, policies: keys });
      },
    }),
    route({
      method: 'GET',
      path: `${base}/:name`,
      access: { names },
      handler: async (request, reply) => {
        const { name } = request.params;
        const text = name === 'root' ? '' : (await policies.get(name))?.text;
        if (text === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
        const data = { name, policy: text, rules: text };
        if (legacy) return reply.send({ name, rules: text, ...envelope(request, data) });
        return ok(request, reply, data);
      },
    }),
    route({
      method: 'POST',
      path: `${base}/:name`,
      access: {
        names,
        exists: async (request) => (await policies.get(request.params.name)) !== undefined,
      },
      handler: async (request, reply) => {
        await policies.put(request.params.name, policyText(bodyOf(request)));
        return noContent(reply);
      },
    }),
    route({
      method: 'DELETE',
      path: `${base}/:name`,
      access: { names },
      handler: async (request, reply) => {
        await policies.delete(request.params.name);
        return noContent(reply);
      },
    }),
  ];
}

/**
 * ACL policies at `sys/policies/acl/:name`, and the older `sys/policy/:name` that some clients
 * (node-vault) still use.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [policiesPaths({ policies })]);
 * ```
 */
export function policiesPaths({ policies }: { readonly policies: PolicyStore }): RouteGroup {
  return {
    name: 'sys/policies',
    routes: [
      ...policyRoutes('/v1/sys/policies/acl', policies),
      ...policyRoutes('/v1/sys/policy', policies),
    ],
  };
}
