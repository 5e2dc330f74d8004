import { CustosError, PermissionDenied } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MountTable } from '../../sys/mount-table.js';
import { secretName } from '../rotation-engine.js';
import { policyOf, policyResponse } from '../rotation-policy.js';
import type { RotationStore } from '../rotation-store.js';
import { secretAndMountOfPath, secretOfPath } from '../rotation-target.js';
import type { RotatorRegistry } from '../rotator.js';

/** What the policy routes use. */
export interface RotationPoliciesDeps {
  /** The mount table: a rotation names a secret of a KV version 2 mount. */
  readonly mounts: Pick<MountTable, 'list'>;
  readonly store: RotationStore;
  readonly rotators: RotatorRegistry;
  readonly clock: () => number;
}

/**
 * `sys/rotation` and `sys/rotation/*`: list every secret with a rotation policy, and read,
 * write and delete the policy of one (`sys/rotation/secret/app/db`). The ACL judges the path
 * as requested (`sys/rotation/secret/app/db`); the secret it names is read from that same path.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [rotationPoliciesPaths({ store, rotators, clock })]);
 * ```
 */
export function rotationPoliciesPaths(deps: RotationPoliciesDeps): RouteGroup {
  const path = '/v1/sys/rotation/*' as const;
  return {
    name: 'sys/rotation',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/rotation',
        access: { list: true },
        handler: async (request, reply) => {
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const keys = await deps.store.listPolicies();
          if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { keys });
        },
      }),
      route({
        method: 'GET',
        path,
        handler: async (request, reply) => {
          const secret = secretName(secretOfPath(request.params['*'], await deps.mounts.list()));
          const policy = await deps.store.readPolicy(secret);
          if (policy === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { secret, ...policyResponse(policy) });
        },
      }),
      route({
        method: 'POST',
        path,
        access: {
          // Asked before the ACL: a path that names no secret is "missing" here (never an
          // error the ACL has not judged yet); the handler refuses it after the ACL.
          exists: async (request) => {
            let secret: string;
            try {
              secret = secretName(secretOfPath(request.params['*'], await deps.mounts.list()));
            } catch {
              return false;
            }
            return (await deps.store.readPolicy(secret)) !== undefined;
          },
        },
        fields: {
          type: field.string(),
          rotator: field.string(),
          window: field.duration(),
          grace_period: field.duration(),
          automatic: field.bool({ json: true }),
          notify_before: field.duration(),
          approvals: field.int(),
          approval_ttl: field.duration(),
        },
        handler: async (request, reply, fields) => {
          const target = secretAndMountOfPath(request.params['*'], await deps.mounts.list());
          const secret = secretName(target.ref);
          const body = bodyOf(request);
          // `schedule` is a duration or a cron expression, and `settings` an object of any
          // JSON values: read here (no field type is either).
          const policy = policyOf(
            { ...fields, schedule: body.schedule, settings: body.settings },
            new Date(deps.clock()).toISOString(),
          );
          const rotator = deps.rotators.get(policy.rotator);
          if (rotator === undefined)
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              `rotator ${policy.rotator} is not available on this server (available: ${deps.rotators.names().join(', ')})`,
            );
          rotator.checkSettings(policy.settings);
          // What the rotation will change outside the secret is judged now, against the
          // writer's token: the scheduler later runs it with the server's rights.
          const acl = request.custos.acl;
          for (const right of rotator.requiredRights?.(policy.settings) ?? [])
            if (acl?.allowsWithoutParameters(right.path, right.capability) !== true)
              throw new PermissionDenied();
          // Rewriting a policy keeps when it was first written: the schedule counts from there
          // (at the revision read: a concurrent write makes this run again on the fresh one).
          // The mount it is written for: the engine refuses the name on any other (`mount_uuid`).
          await deps.store.updatePolicy(secret, (before) => ({
            ...policy,
            ...(before === undefined ? {} : { created_time: before.created_time }),
            mount_uuid: target.mount.uuid,
          }));
          return noContent(reply);
        },
      }),
      route({
        method: 'DELETE',
        path,
        handler: async (request, reply) => {
          await deps.store.deletePolicy(
            secretName(secretOfPath(request.params['*'], await deps.mounts.list())),
          );
          return noContent(reply);
        },
      }),
    ],
  };
}
