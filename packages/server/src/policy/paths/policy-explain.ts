import { CustosError } from '@custos/core/errors';
import type { TokenStore } from '../../auth/token-store.js';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { requiredString } from '../../http/fields.js';
import { aclPathOf } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MergedRule } from '../acl.js';
import type { Capability } from '../policy-parse.js';
import type { PolicyStore } from '../policy-store.js';

/** The operations a request can perform (what `operation` may name). */
const OPERATIONS: readonly Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list'];

/** What the route uses: tokens to find the one asked about, policies to build its ACL. */
export interface PolicyExplainDeps {
  readonly tokens: Pick<TokenStore, 'byAccessor'>;
  readonly policies: Pick<PolicyStore, 'aclFor'>;
}

/**
 * `sys/policies/explain` (custos's own, sudo): which policy and rule allow or deny an operation
 * of the token with `accessor` on `path`, and why. Optional `parameters` (the request's body
 * for a write, its query for a read) are judged against the rule's parameter constraints;
 * `sudo: true` says the path needs sudo too. The answer: `allowed`, `reason`, the token's
 * `policies`, the deciding `rule` (pattern, merged capabilities, each policy's part,
 * constraints) and the `other_rules` that match the path but are less specific.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [policyExplainPaths({ tokens, policies })]);
 * ```
 */
export function policyExplainPaths({ tokens, policies }: PolicyExplainDeps): RouteGroup {
  return {
    name: 'sys/policies/explain',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/policies/explain',
        access: { sudo: true },
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const accessor = requiredString(body.accessor, 'accessor');
          const path = requiredString(body.path, 'path').replace(/^\/+/, '');
          const operation = requiredString(body.operation, 'operation') as Capability;
          if (!OPERATIONS.includes(operation)) {
            throw invalid(`operation must be one of ${OPERATIONS.join(', ')}`);
          }
          const parameters = body.parameters;
          if (
            parameters !== undefined &&
            (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
          ) {
            throw invalid('parameters must be a JSON object (the request body or query)');
          }
          if (body.sudo !== undefined && typeof body.sudo !== 'boolean') {
            throw invalid('sudo must be true or false');
          }
          const entry = await tokens.byAccessor(accessor);
          if (entry === undefined) throw invalid('invalid accessor');
          const acl = await policies.aclFor(entry.policies);
          const judged = aclPathOf(path, operation);
          const decision = acl.decide(judged, operation, { sudo: body.sudo, data: parameters });
          const others = acl
            .matching(judged)
            .filter((rule) => rule.pattern !== decision.rule?.pattern);
          return ok(request, reply, {
            allowed: decision.allowed,
            reason: decision.reason,
            path: judged,
            operation,
            policies: entry.policies,
            rule: decision.rule === undefined ? null : ruleData(decision.rule),
            other_rules: others.map(ruleData),
          });
        },
      }),
    ],
  };
}

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** A merged rule as the answer shows it. */
function ruleData(rule: MergedRule): Record<string, unknown> {
  const { allowed, denied, required } = rule.parameters;
  return {
    pattern: rule.pattern,
    capabilities: [...rule.capabilities],
    policies: rule.sources.map((s) => ({ name: s.policy, capabilities: s.capabilities })),
    ...(allowed === undefined ? {} : { allowed_parameters: Object.fromEntries(allowed) }),
    ...(denied === undefined ? {} : { denied_parameters: Object.fromEntries(denied) }),
    ...(required.length === 0 ? {} : { required_parameters: required }),
  };
}
