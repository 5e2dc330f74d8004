import { CustosError } from '@custos/core/errors';
import type { TokenEntry, TokenStore } from '../../auth/token-store.js';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { requiredString } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { PolicyStore } from '../../policy/policy-store.js';
import { capabilitiesOn, capabilityPaths } from '../capabilities-on.js';

/** What the routes use: tokens to find the one asked about, policies to build its ACL. */
export interface CapabilitiesTokenDeps {
  readonly tokens: Pick<TokenStore, 'lookup' | 'byAccessor'>;
  readonly policies: Pick<PolicyStore, 'aclFor'>;
}

/**
 * `sys/capabilities` (`{token, paths}`) and `sys/capabilities-accessor` (`{accessor, paths}`):
 * what another token may do on each path, as Vault answers them. Looking the token up spends
 * none of its uses. An unknown token or accessor is 400 (the value is never echoed).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [capabilitiesTokenPaths({ tokens, policies })]);
 * ```
 */
export function capabilitiesTokenPaths({ tokens, policies }: CapabilitiesTokenDeps): RouteGroup {
  const answer = async (entry: TokenEntry | undefined, paths: string[], what: string) => {
    if (entry === undefined) throw new CustosError('ERR_INVALID_REQUEST', `invalid ${what}`);
    return capabilitiesOn(await policies.aclFor(entry.policies), paths);
  };
  return {
    name: 'sys/capabilities-token',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/capabilities',
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const paths = capabilityPaths(body);
          const entry = await tokens.lookup(requiredString(body.token, 'token'));
          return ok(request, reply, await answer(entry, paths, 'token'));
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/capabilities-accessor',
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const paths = capabilityPaths(body);
          const entry = await tokens.byAccessor(requiredString(body.accessor, 'accessor'));
          return ok(request, reply, await answer(entry, paths, 'accessor'));
        },
      }),
    ],
  };
}
