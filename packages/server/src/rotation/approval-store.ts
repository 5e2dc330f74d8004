import { randomUUID } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { ServerError } from '../errors.js';
import { ROTATION } from '../storage/layout.js';

/** One approval: who (an identity) with which token (its accessor), when. */
export interface Approval {
  readonly identity: string;
  readonly accessor: string;
  readonly time: string;
}

/**
 * A rotation asked for by a request on a secret whose policy wants approvals: it waits until
 * `approvals_required` identities other than the requester's approve it, before
 * `expires_time`. Stored behind the barrier at `sys/rotation/request/<id>`; never a value.
 */
export interface ApprovalRequest {
  readonly id: string;
  /** `<mount>/<key>`. */
  readonly secret: string;
  /** The requester's identity (the display name of the root of its token tree). */
  readonly requester: string;
  readonly requester_accessor: string;
  readonly reason?: string;
  readonly created_time: string;
  readonly expires_time: string;
  readonly approvals_required: number;
  readonly approvals: readonly Approval[];
  /** `pending` until approved; `approved` once the last approval came (the rotation then ran). */
  readonly state: 'pending' | 'approved';
  /** The rotation the last approval ran, and how it ended. */
  readonly rotation_id?: string;
  readonly result?: string;
}

/** What an approval came to: the request as saved, and whether this one completed it. */
export interface ApprovalOutcome {
  readonly request: ApprovalRequest;
  readonly completed: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const refused = (message: string) => new ServerError('ERR_APPROVAL_REFUSED', message);

/** Whether `id` has the form of a request id (a lower-case UUID): anything else names none. */
export const isRequestId = (id: string) => UUID.test(id);

/**
 * The rotation requests waiting for approval, behind the barrier. `approve` reads the request
 * and replaces it at the revision read, in one transaction (a concurrent change makes it a
 * conflict, retried on the fresh request; no row lock, which two writers holding would deadlock
 * on PostgreSQL): of two approvals by one identity, one counts; of two that complete it at
 * once, exactly one is told it completed it (and runs the rotation).
 *
 * @example
 * ```ts
 * const requests = createApprovalStore(barrier, Date.now);
 * const request = await requests.open({ secret: 'secret/prod/db', requester: 'token-alice', … });
 * const { completed } = await requests.approve(request.id, { identity: 'token-bob', accessor });
 * ```
 */
export interface ApprovalStore {
  open(input: {
    secret: string;
    requester: string;
    requesterAccessor: string;
    reason?: string;
    approvalsRequired: number;
    ttlSeconds: number;
  }): Promise<ApprovalRequest>;
  read(id: string): Promise<ApprovalRequest | undefined>;
  /** Every request, oldest first. */
  list(): Promise<ApprovalRequest[]>;
  /** Adds an approval; refused (`ERR_APPROVAL_REFUSED`) by the rules above. */
  approve(id: string, approver: { identity: string; accessor: string }): Promise<ApprovalOutcome>;
  /** Records the rotation an approved request ran. */
  recordResult(id: string, rotationId: string, result: string): Promise<void>;
  /**
   * Removes the requests that ended `retentionMs` or longer before `nowMs`: approved ones (the
   * rotation ran, whatever its result) from their last approval, expired ones from their
   * expiry. The ids removed. A request approved meanwhile is kept (read, then removed at that
   * revision).
   */
  purgeEnded(nowMs: number, retentionMs: number): Promise<string[]>;
}

/** When a request ended (approved: its last approval; pending: its expiry), Unix ms. */
export function requestEndedMs(request: ApprovalRequest): number {
  if (request.state === 'approved')
    return Date.parse(request.approvals.at(-1)?.time ?? request.created_time);
  return Date.parse(request.expires_time);
}

/** How long ended requests are kept by default (7 days). */
export const DEFAULT_APPROVAL_RETENTION_MS = 7 * 86_400_000;

/** Creates the approval store on the barrier (`sys/rotation/request/`). */
export function createApprovalStore(barrier: Barrier, clock: () => number): ApprovalStore {
  const storage = barrierView(barrier, ROTATION.prefix);
  const pathOf = (id: string) => {
    if (!isRequestId(id)) throw new CustosError('ERR_NOT_FOUND', 'no such rotation request');
    return ROTATION.request + id;
  };
  const read = async (id: string) => (await storage.read<ApprovalRequest>(pathOf(id)))?.data;
  return {
    async open(input) {
      const now = clock();
      const request: ApprovalRequest = {
        id: randomUUID(),
        secret: input.secret,
        requester: input.requester,
        requester_accessor: input.requesterAccessor,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        created_time: new Date(now).toISOString(),
        expires_time: new Date(now + input.ttlSeconds * 1000).toISOString(),
        approvals_required: input.approvalsRequired,
        approvals: [],
        state: 'pending',
      };
      await storage.create(pathOf(request.id), request);
      return request;
    },
    read,
    async list() {
      const out: ApprovalRequest[] = [];
      for (const path of await storage.listPaths(ROTATION.request)) {
        const request = (await storage.read<ApprovalRequest>(path))?.data;
        if (request !== undefined) out.push(request);
      }
      return out.sort((a, b) => a.created_time.localeCompare(b.created_time));
    },
    approve: (id, approver) =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<ApprovalRequest>(pathOf(id));
          if (stored === undefined)
            throw new CustosError('ERR_NOT_FOUND', 'no such rotation request');
          const request = stored.data;
          if (request.state !== 'pending')
            throw refused('the rotation request was approved already and has run');
          if (clock() >= Date.parse(request.expires_time))
            throw refused('the rotation request expired: ask for the rotation again');
          if (approver.identity === request.requester)
            throw refused(
              'the requester cannot approve their own rotation (nor a token of their token tree)',
            );
          if (request.approvals.some((a) => a.identity === approver.identity))
            throw refused('this identity approved the request already');
          const approvals = [
            ...request.approvals,
            { ...approver, time: new Date(clock()).toISOString() },
          ];
          const completed = approvals.length >= request.approvals_required;
          const next: ApprovalRequest = {
            ...request,
            approvals,
            state: completed ? 'approved' : 'pending',
          };
          await tx.replace(pathOf(id), next, stored.revision);
          return { request: next, completed };
        }),
      ),
    async purgeEnded(nowMs, retentionMs) {
      const removed: string[] = [];
      for (const path of await storage.listPaths(ROTATION.request)) {
        const gone = await retryOnConflict(() =>
          storage.transaction(async (tx) => {
            const stored = await tx.read<ApprovalRequest>(path);
            if (stored === undefined || requestEndedMs(stored.data) + retentionMs > nowMs)
              return undefined;
            // Replaced at the revision read first: an approval meanwhile is a conflict.
            await tx.replace(path, stored.data, stored.revision);
            await tx.remove(path);
            return stored.data.id;
          }),
        );
        if (gone !== undefined) removed.push(gone);
      }
      return removed;
    },
    recordResult: (id, rotationId, result) =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<ApprovalRequest>(pathOf(id));
          if (stored === undefined) return;
          await tx.replace(
            pathOf(id),
            { ...stored.data, rotation_id: rotationId, result },
            stored.revision,
          );
        }),
      ),
  };
}
