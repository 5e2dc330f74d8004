import { useState } from 'react';
import {
  Breadcrumb,
  Breadcrumbs,
  Button,
  Cell,
  Column,
  Heading,
  Link,
  Row,
  Table,
  TableBody,
  TableHeader,
} from 'react-aria-components';
import { useLocation } from 'wouter';
import { ApiError, describeError, type Envelope, encodePath } from '../api.js';
import { ErrorMessage, StatusMessage } from '../components/messages.js';
import {
  type RotateAnswer,
  RotateDialog,
  rotateNow,
  rotationNote,
} from '../components/rotate-dialog.js';
import { type HistoryRun, RotationRuns } from '../components/rotation-runs.js';
import { segmentsAfter } from '../routes.js';
import { useApi, useLoad } from '../session-context.js';

/** One secret's rotation, as `sys/rotation-status` reports it. */
interface RotationStatus {
  readonly secret: string;
  readonly rotator: string;
  readonly automatic: boolean;
  readonly last_rotation?: string;
  readonly last_result?: string;
  readonly next_due: string;
  readonly overdue: boolean;
  readonly notify: boolean;
  readonly running: boolean;
  readonly background?: { readonly state: string };
}

/** A two-person approval request (`sys/rotation-requests`). */
interface RotationRequest {
  readonly id: string;
  readonly secret: string;
  readonly requester: string;
  readonly reason: string;
  readonly created_time: string;
  readonly expires_time: string;
  readonly approvals_required: number;
  readonly approved_by: readonly string[];
  readonly state: string;
  readonly result?: string;
}

/** What a secret's rotation needs from the operator, worst first. */
function standing(s: RotationStatus): { label: string; bad: boolean; rank: number } {
  if (s.last_result === 'failed') return { label: 'failed', bad: true, rank: 0 };
  if (s.background !== undefined && s.background.state !== 'succeeded')
    return { label: `background work ${s.background.state}`, bad: true, rank: 1 };
  if (s.overdue) return { label: 'overdue', bad: true, rank: 2 };
  if (s.last_result === 'rolled_back') return { label: 'rolled back', bad: true, rank: 3 };
  if (s.running) return { label: 'rotating', bad: false, rank: 4 };
  if (s.notify) return { label: 'due soon', bad: false, rank: 5 };
  return { label: 'up to date', bad: false, rank: 6 };
}

/** `/rotation`: every rotation policy's standing and the pending approvals; `/rotation/<secret>`: its history. */
export function RotationPage() {
  useLocation();
  const secret = segmentsAfter('rotation').join('/');
  return secret === '' ? <RotationOverview /> : <RotationHistory key={secret} secret={secret} />;
}

const denied = (err: unknown) => err instanceof ApiError && err.status === 403;

function RotationOverview() {
  const api = useApi();
  const statuses = useLoad(async () => {
    try {
      return (await api.get<Envelope<{ secrets: RotationStatus[] }>>('sys/rotation-status')).data
        .secrets;
    } catch (err) {
      if (denied(err)) return 'denied' as const;
      throw err;
    }
  }, 'rotation-status');
  const requests = useLoad(async () => {
    try {
      return (await api.get<Envelope<{ requests: RotationRequest[] }>>('sys/rotation-requests'))
        .data.requests;
    } catch (err) {
      if (denied(err)) return 'denied' as const;
      throw err;
    }
  }, 'rotation-requests');
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();

  const rotate = async (secret: string, reason: string) => {
    setNote(undefined);
    setError(undefined);
    const outcome = await rotateNow(api.post, secret, reason);
    (outcome.ok ? setNote : setError)(outcome.text);
    statuses.reload();
    requests.reload();
  };

  const approve = async (request: RotationRequest) => {
    setNote(undefined);
    setError(undefined);
    try {
      const answer = (
        await api.post<
          Envelope<{ approved_by: string[]; approvals_required: number; rotation?: RotateAnswer }>
        >(`sys/rotation-approve/${encodeURIComponent(request.id)}`)
      ).data;
      if (answer.rotation === undefined)
        setNote(
          `Approved the rotation of ${request.secret} (${answer.approved_by.length} of ${answer.approvals_required}).`,
        );
      else {
        const said = rotationNote(request.secret, answer.rotation);
        if (said === undefined)
          setError(
            `Approved; the rotation of ${request.secret} ${answer.rotation.result === 'rolled_back' ? 'was rolled back' : 'failed'}: ${answer.rotation.error ?? 'see its history'}.`,
          );
        else setNote(`Approved. ${said}`);
      }
    } catch (err) {
      // A refused approval (the requester, a second approval by one person, an expired request)
      // is a 403 that says why; a plain policy refusal says only "permission denied".
      const reason = err instanceof ApiError && err.status === 403 ? err.errors[0] : undefined;
      setError(
        reason !== undefined && !/^permission denied$/i.test(reason)
          ? `Approval refused: ${reason}.`
          : describeError(err, `approve the rotation of ${request.secret}`),
      );
    }
    statuses.reload();
    requests.reload();
  };

  const pending = Array.isArray(requests.data)
    ? requests.data.filter((r) => r.state === 'pending')
    : [];
  const waiting = new Set(pending.map((r) => r.secret));
  const list = Array.isArray(statuses.data)
    ? [...statuses.data]
        .map((s) => {
          const found = standing(s);
          // A secret that is otherwise fine but has a request waiting says so.
          return {
            id: s.secret,
            status: s,
            standing:
              !found.bad && waiting.has(s.secret)
                ? { label: 'waiting for approval', bad: false, rank: found.rank }
                : found,
          };
        })
        .sort((a, b) => a.standing.rank - b.standing.rank || a.id.localeCompare(b.id))
    : [];
  const count = (label: string) => list.filter((s) => s.standing.label === label).length;

  return (
    <section aria-labelledby="rotation-heading">
      <Heading level={1} id="rotation-heading">
        Rotation
      </Heading>
      {note !== undefined && <StatusMessage>{note}</StatusMessage>}
      {error !== undefined && <ErrorMessage>{error}</ErrorMessage>}
      {statuses.loading && <p aria-live="polite">Loading…</p>}
      {statuses.data === 'denied' && (
        <p className="note">
          Your token may not read the rotation status (<code>sys/rotation-status</code> needs{' '}
          <code>read</code>).
        </p>
      )}
      {statuses.error !== undefined && (
        <ErrorMessage>{describeError(statuses.error, 'read the rotation status')}</ErrorMessage>
      )}
      {Array.isArray(statuses.data) && statuses.data.length === 0 && (
        <p>No secret has a rotation policy yet.</p>
      )}
      {list.length > 0 && (
        <>
          <p>
            {list.length} with a policy: {count('failed')} failed, {count('overdue')} overdue,{' '}
            {count('due soon')} due soon.
          </p>
          <Table aria-label="Rotation status" className="table">
            <TableHeader>
              <Column isRowHeader>Secret</Column>
              <Column>Status</Column>
              <Column>Rotator</Column>
              <Column>Last rotation</Column>
              <Column>Next due</Column>
              <Column>Action</Column>
            </TableHeader>
            <TableBody items={list}>
              {(item) => (
                <Row>
                  <Cell>
                    <Link href={`/rotation/${encodePath(item.id)}`}>{item.id}</Link>
                  </Cell>
                  <Cell>
                    <span className={item.standing.bad ? 'badge badge-bad' : 'badge badge-good'}>
                      {item.standing.label}
                    </span>
                  </Cell>
                  <Cell>
                    {item.status.rotator}
                    {item.status.automatic ? '' : ' (by hand)'}
                  </Cell>
                  <Cell>
                    {item.status.last_rotation === undefined
                      ? 'never'
                      : `${item.status.last_rotation} (${item.status.last_result ?? '?'})`}
                  </Cell>
                  <Cell>{item.status.next_due}</Cell>
                  <Cell>
                    <RotateDialog secret={item.id} onRotate={rotate} />
                  </Cell>
                </Row>
              )}
            </TableBody>
          </Table>
        </>
      )}
      <Heading level={2}>Waiting for approval</Heading>
      {requests.data === 'denied' && (
        <p className="note">
          Your token may not see rotation requests (<code>sys/rotation-requests</code> needs{' '}
          <code>read</code>; grant it to approvers).
        </p>
      )}
      {requests.error !== undefined && (
        <ErrorMessage>{describeError(requests.error, 'list the rotation requests')}</ErrorMessage>
      )}
      {Array.isArray(requests.data) && pending.length === 0 && (
        <p>No rotation waits for approval.</p>
      )}
      {pending.length > 0 && (
        <Table aria-label="Rotation requests waiting for approval" className="table">
          <TableHeader>
            <Column isRowHeader>Secret</Column>
            <Column>Asked by</Column>
            <Column>Reason</Column>
            <Column>Approvals</Column>
            <Column>Expires</Column>
            <Column>Action</Column>
          </TableHeader>
          <TableBody items={pending}>
            {(request) => (
              <Row>
                <Cell>{request.secret}</Cell>
                <Cell>{request.requester}</Cell>
                <Cell>{request.reason}</Cell>
                <Cell>
                  {request.approved_by.length} of {request.approvals_required}
                  {request.approved_by.length > 0 ? ` (${request.approved_by.join(', ')})` : ''}
                </Cell>
                <Cell>{request.expires_time}</Cell>
                <Cell>
                  <Button
                    aria-label={`Approve the rotation of ${request.secret}`}
                    onPress={() => approve(request)}
                  >
                    Approve
                  </Button>
                </Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

function RotationHistory({ secret }: { readonly secret: string }) {
  const api = useApi();
  const history = useLoad(
    async () =>
      (
        await api.get<Envelope<{ runs: HistoryRun[] }>>(
          `sys/rotation-history/${encodePath(secret)}`,
        )
      ).data.runs,
    secret,
  );
  const runs = history.data ?? [];
  return (
    <section aria-labelledby="history-heading">
      <Breadcrumbs aria-label="Path">
        <Breadcrumb>
          <Link href="/rotation">Rotation</Link>
        </Breadcrumb>
        <Breadcrumb>
          <Link href={`/rotation/${encodePath(secret)}`}>{secret}</Link>
        </Breadcrumb>
      </Breadcrumbs>
      <Heading level={1} id="history-heading">
        Rotation history of {secret}
      </Heading>
      {history.loading && <p aria-live="polite">Loading…</p>}
      {history.error !== undefined && (
        <ErrorMessage>
          {describeError(history.error, `read the rotation history of ${secret}`)}
        </ErrorMessage>
      )}
      {history.data?.length === 0 && <p>Never rotated.</p>}
      {runs.length > 0 && <RotationRuns runs={runs} />}
    </section>
  );
}
