import { PermissionDenied } from '@custos/core/errors';
import type { TokenStore } from '../../auth/token-store.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MountTable } from '../../sys/mount-table.js';
import { approvalIdentity } from '../approval-identity.js';
import type { ApprovalRequest, ApprovalStore } from '../approval-store.js';
import type { RotationEngine } from '../rotation-engine.js';
import { secretOfPath } from '../rotation-target.js';

/** What the approval routes use. */
export interface RotationApprovalDeps {
  readonly mounts: Pick<MountTable, 'list'>;
  readonly engine: RotationEngine;
  readonly approvals: ApprovalStore;
  readonly tokens: Pick<TokenStore, 'personOf'>;
  readonly clock: () => number;
}

/** A request as the API shows it: who asked, who approved, until when; never a token. */
export function requestResponse(request: ApprovalRequest, now: number): Record<string, unknown> {
  return {
    id: request.id,
    secret: request.secret,
    requester: request.requester,
    reason: request.reason ?? '',
    created_time: request.created_time,
    expires_time: request.expires_time,
    approvals_required: request.approvals_required,
    approved_by: request.approvals.map((a) => a.identity),
    state:
      request.state === 'pending' && now >= Date.parse(request.expires_time)
        ? 'expired'
        : request.state,
    ...(request.rotation_id === undefined ? {} : { rotation_id: request.rotation_id }),
    ...(request.result === undefined ? {} : { result: request.result }),
  };
}

/**
 * `GET sys/rotation-requests` (every rotation request and where it stands) and
 * `POST sys/rotation-approve/<id>` (approve one). An approver needs `update` on the approve
 * path and on `sys/rotate-secret/<secret>` (the right to ask for that rotation), an identity
 * other than the requester's (approval-identity.ts), and must not have approved it already;
 * the approval that completes the request runs the rotation, recording every approver.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [rotationApprovalPaths({ mounts, engine, approvals, tokens, clock })]);
 * ```
 */
export function rotationApprovalPaths(deps: RotationApprovalDeps): RouteGroup {
  return {
    name: 'sys/rotation-approve',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/rotation-requests',
        handler: async (request, reply) => {
          const now = deps.clock();
          const requests = (await deps.approvals.list()).map((r) => requestResponse(r, now));
          return ok(request, reply, { requests });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/rotation-approve/:id',
        handler: async (request, reply) => {
          const id = (request.params as { id: string }).id;
          const pending = await deps.approvals.read(id);
          if (pending !== undefined) {
            // Approving a rotation is judged as asking for it: scoped to the secret.
            const acl = request.custos.acl;
            if (
              acl?.allowsWithoutParameters(`sys/rotate-secret/${pending.secret}`, 'update') !== true
            )
              throw new PermissionDenied();
          }
          const identity = await approvalIdentity(deps.tokens, request.custos.entry);
          const { request: saved, completed } = await deps.approvals.approve(id, {
            identity,
            accessor: request.custos.entry?.accessor ?? 'unknown',
          });
          if (!completed) return ok(request, reply, requestResponse(saved, deps.clock()));
          let result: Awaited<ReturnType<RotationEngine['rotate']>>;
          try {
            result = await deps.engine.rotate(
              secretOfPath(saved.secret, await deps.mounts.list()),
              {
                by: saved.requester_accessor,
                ...(saved.reason === undefined ? {} : { reason: saved.reason }),
                approvedBy: saved.approvals.map((a) => a.identity),
              },
            );
          } catch (err) {
            // Approved, but the rotation could not start (one already running): ask again.
            const code = (err as { code?: string }).code ?? 'error';
            await deps.approvals.recordResult(saved.id, '', `not started: ${code}`);
            throw err;
          }
          await deps.approvals.recordResult(saved.id, result.id, result.result);
          return ok(request, reply, {
            ...requestResponse(
              { ...saved, rotation_id: result.id, result: result.result },
              deps.clock(),
            ),
            rotation: result,
          });
        },
      }),
    ],
  };
}
