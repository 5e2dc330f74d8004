import { CustosError } from '@custos/core/errors';
import { isKeyState } from '@custos/core/kms';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';
import { describedKey } from './describe.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * `transit/keys/:name/state`: the custos key lifecycle (active, inactive, rotating, revoked,
 * pending deletion).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [keysStatePaths({ transitOf })]);
 * ```
 */
export function keysStatePaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/keys/state',
    routes: [
      route({
        method: 'POST',
        path: '/v1/:mount/keys/:name/state',
        handler: async (request, reply) => {
          const { transit } = transitOf(request);
          // Kept by hand: `state` is one of the lifecycle's names (no field type is a choice).
          const state = bodyOf(request).state;
          if (!isKeyState(state))
            throw invalid(
              'state must be one of active, inactive, rotating, revoked, pending_deletion',
            );
          if (state === 'expired') throw invalid('a key expires by its expires_at, not on request');
          await transit.setState(request.params.name, state);
          return ok(request, reply, await describedKey(transit, request.params.name));
        },
      }),
    ],
  };
}
