import { CustosError, PermissionDenied } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MountTable } from '../../sys/mount-table.js';
import { type RotationEngine, secretName } from '../rotation-engine.js';
import type { RotationStore } from '../rotation-store.js';
import { secretOfPath } from '../rotation-target.js';
import type { RotatorRegistry } from '../rotator.js';

/** What the continue route uses. */
export interface RotationContinueDeps {
  readonly mounts: Pick<MountTable, 'list'>;
  readonly engine: RotationEngine;
  readonly store: RotationStore;
  readonly rotators: RotatorRegistry;
}

/**
 * `POST sys/rotation-continue/*`: runs the finish step of the secret's last rotation again when
 * it succeeded but its finish failed — a `transit-key` rewrap cut short (a database out of
 * reach) continues from its saved progress, without a new key version. The caller needs the
 * rights a policy writer needs for the rotator's settings (`requiredRights`): the work runs
 * with the server's rights.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [rotationContinuePaths({ mounts, engine, store, rotators })]);
 * ```
 */
export function rotationContinuePaths(deps: RotationContinueDeps): RouteGroup {
  return {
    name: 'sys/rotation-continue',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/rotation-continue/*',
        handler: async (request, reply) => {
          const secret = secretName(secretOfPath(request.params['*'], await deps.mounts.list()));
          const policy = await deps.store.readPolicy(secret);
          if (policy === undefined)
            throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
          const rotator = deps.rotators.get(policy.rotator);
          const acl = request.custos.acl;
          for (const right of rotator?.requiredRights?.(policy.settings) ?? [])
            if (acl?.allowsWithoutParameters(right.path, right.capability) !== true)
              throw new PermissionDenied();
          return ok(request, reply, await deps.engine.continueFinish(secret));
        },
      }),
    ],
  };
}
