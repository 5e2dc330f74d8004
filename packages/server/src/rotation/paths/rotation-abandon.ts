import { CustosError } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MountTable } from '../../sys/mount-table.js';
import { type RotationEngine, secretName } from '../rotation-engine.js';
import { secretOfPath } from '../rotation-target.js';

/** What the abandon route uses. */
export interface RotationAbandonDeps {
  readonly mounts: Pick<MountTable, 'list'>;
  readonly engine: Pick<RotationEngine, 'abandonBackground'>;
}

/**
 * `POST sys/rotation-abandon/*` (sudo, a `reason` required): ends the background work of the
 * secret's last rotation (a `transit-key` rewrap that can never succeed: its rotator or
 * database gone) as abandoned, so the secret may rotate again. The value that rotation
 * replaced is never retired automatically afterwards (docs/rotation.md, "Abandoning").
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [rotationAbandonPaths({ mounts, engine })]);
 * ```
 */
export function rotationAbandonPaths(deps: RotationAbandonDeps): RouteGroup {
  return {
    name: 'sys/rotation-abandon',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/rotation-abandon/*',
        access: { sudo: true },
        fields: { reason: field.string({ required: true }) },
        handler: async (request, reply, { reason }) => {
          const secret = secretName(secretOfPath(request.params['*'], await deps.mounts.list()));
          if (reason.trim() === '' || reason.length > 512)
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              'reason is required (at most 512 characters): it is recorded in the history',
            );
          const by = request.custos.entry?.accessor ?? 'unknown';
          return ok(request, reply, await deps.engine.abandonBackground(secret, { by, reason }));
        },
      }),
    ],
  };
}
