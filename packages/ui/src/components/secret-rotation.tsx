import { Fragment, useState } from 'react';
import { Button, Disclosure, DisclosurePanel, Heading } from 'react-aria-components';
import { ApiError, describeError, type Envelope, encodePath } from '../api.js';
import { type Api, useApi, useLoad } from '../session-context.js';
import { ErrorMessage, StatusMessage } from './messages.js';
import { RotateDialog, rotateNow } from './rotate-dialog.js';
import { type PolicyView, policyBody, RotationPolicyForm } from './rotation-policy-form.js';
import { type HistoryRun, RotationRuns } from './rotation-runs.js';

/** The parts of a `sys/rotation-status` entry shown on a secret's page. */
interface StatusView {
  readonly secret: string;
  readonly last_rotation?: string;
  readonly last_result?: string;
  readonly next_due: string;
  readonly overdue: boolean;
  readonly running: boolean;
}

/** Which version holds each staging label (from the secret's metadata). */
export type Stages = Readonly<Partial<Record<'current' | 'pending' | 'previous', number>>>;

const DENIED = 'denied' as const;

/** A read that a 403 turns into "denied" and a 404 into null: both are said in place. */
async function readOr<T>(api: Api, path: string): Promise<T | null | typeof DENIED> {
  try {
    return (await api.peek<Envelope<T>>(path)).data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return DENIED;
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/**
 * A secret's rotation on its page: the staging labels (which version is current, pending,
 * previous), the policy (`sys/rotation/<secret>`) with its next due time and last result
 * (`sys/rotation-status`), editing it, turning automatic rotation on and off, *Rotate…* with a
 * reason, and the history (`sys/rotation-history/<secret>`). What the token may not read is
 * said in place; nothing here holds a value.
 *
 * @example
 * ```tsx
 * <SecretRotation mount="secret" path="app/api" stages={{ current: 2 }} onRotated={reload} />
 * ```
 */
export function SecretRotation({
  mount,
  path,
  stages,
  onRotated,
}: {
  readonly mount: string;
  readonly path: string;
  readonly stages: Stages;
  readonly onRotated: () => void;
}) {
  const api = useApi();
  const secret = `${mount}/${path}`;
  const encoded = encodePath(secret);
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const policy = useLoad(() => readOr<PolicyView>(api, `sys/rotation/${encoded}`), secret);
  const status = useLoad(async () => {
    const all = await readOr<{ secrets: StatusView[] }>(api, 'sys/rotation-status');
    if (all === DENIED || all === null) return all;
    return all.secrets.find((s) => s.secret === secret) ?? null;
  }, secret);
  const history = useLoad(async () => {
    const answer = await readOr<{ runs: HistoryRun[] }>(api, `sys/rotation-history/${encoded}`);
    return answer === DENIED || answer === null ? answer : answer.runs;
  }, secret);
  const reload = () => {
    policy.reload();
    status.reload();
    history.reload();
  };

  const save = async (body: Record<string, unknown>, done: string) => {
    setNote(undefined);
    setError(undefined);
    try {
      await api.post(`sys/rotation/${encoded}`, body);
      setNote(done);
      reload();
    } catch (err) {
      // Not reloaded: the form keeps what was typed.
      // A refused policy (400) says why in the server's words.
      setError(
        err instanceof ApiError && err.status === 400
          ? `Not saved: ${err.message}.`
          : describeError(err, `write the rotation policy of ${secret}`),
      );
    }
  };

  const rotate = async (name: string, reason: string) => {
    setNote(undefined);
    setError(undefined);
    const outcome = await rotateNow(api.post, name, reason);
    (outcome.ok ? setNote : setError)(outcome.text);
    reload();
    onRotated();
  };

  const stored = policy.data;
  const current = status.data;
  return (
    <section aria-labelledby="secret-rotation-heading">
      <Heading level={2} id="secret-rotation-heading">
        Rotation
      </Heading>
      <ul className="stages" aria-label="Staging labels">
        {(['current', 'pending', 'previous'] as const).map((stage) => (
          <li key={stage}>
            <span className={`badge badge-stage-${stage}`}>{stage}</span>{' '}
            {stages[stage] === undefined ? 'none' : `version ${stages[stage]}`}
          </li>
        ))}
      </ul>
      {note !== undefined && <StatusMessage>{note}</StatusMessage>}
      {error !== undefined && <ErrorMessage>{error}</ErrorMessage>}
      {policy.loading && <p aria-live="polite">Loading the rotation policy…</p>}
      {policy.error !== undefined && (
        <ErrorMessage>
          {describeError(policy.error, `read the rotation policy of ${secret}`)}
        </ErrorMessage>
      )}
      {stored === DENIED && (
        <p className="note">
          Your token may not read this secret's rotation policy (<code>sys/rotation/{secret}</code>{' '}
          needs <code>read</code>).
        </p>
      )}
      {stored === null && <p>No rotation policy: this secret is rotated only by hand.</p>}
      {stored !== undefined && stored !== DENIED && stored !== null && (
        <>
          <dl className="facts" aria-label="Rotation policy">
            {[
              ['Rotator', stored.rotator],
              ['Schedule', stored.schedule],
              ...(stored.window === undefined ? [] : [['Window', stored.window]]),
              ['Grace period', stored.grace_period],
              ['Automatic', stored.automatic ? 'yes' : 'no (rotated by hand only)'],
              ['Notify before', stored.notify_before],
              [
                'Approvals',
                (stored.approvals ?? 0) === 0
                  ? 'none'
                  : `${stored.approvals} (requests wait ${stored.approval_ttl ?? '24h'})`,
              ],
              [
                'Next due',
                current === DENIED
                  ? 'not shown (sys/rotation-status needs read)'
                  : current === undefined || current === null
                    ? '—'
                    : `${current.next_due}${current.overdue ? ' (overdue)' : ''}`,
              ],
              [
                'Last rotation',
                current === DENIED
                  ? 'not shown (sys/rotation-status needs read)'
                  : current?.last_rotation === undefined
                    ? 'never'
                    : `${current.last_rotation} (${current.last_result ?? '?'})`,
              ],
            ].map(([term, value]) => (
              <Fragment key={term}>
                <dt>{term}</dt>
                <dd>{value}</dd>
              </Fragment>
            ))}
          </dl>
          <div className="actions">
            <RotateDialog secret={secret} onRotate={rotate} />
            <Button
              className="react-aria-Button quiet"
              onPress={() =>
                save(
                  policyBody(stored, { automatic: !stored.automatic }),
                  stored.automatic
                    ? `Automatic rotation of ${secret} is off: it rotates only by hand.`
                    : `Automatic rotation of ${secret} is on.`,
                )
              }
            >
              {stored.automatic ? 'Turn automatic rotation off' : 'Turn automatic rotation on'}
            </Button>
          </div>
        </>
      )}
      {stored !== undefined && stored !== DENIED && (
        <Disclosure className="panel">
          <Heading level={3}>
            <Button slot="trigger">
              {stored === null ? 'Set a rotation policy' : 'Edit the rotation policy'}
            </Button>
          </Heading>
          <DisclosurePanel>
            <RotationPolicyForm
              key={JSON.stringify(stored)}
              initial={stored ?? undefined}
              submitLabel="Save rotation policy"
              onSave={(body) => save(body, `Saved the rotation policy of ${secret}.`)}
            />
          </DisclosurePanel>
        </Disclosure>
      )}

      <Heading level={3}>Rotation history</Heading>
      {history.error !== undefined && (
        <ErrorMessage>
          {describeError(history.error, `read the rotation history of ${secret}`)}
        </ErrorMessage>
      )}
      {history.data === DENIED && (
        <p className="note">
          Your token may not read this secret's rotation history (
          <code>sys/rotation-history/{secret}</code> needs <code>read</code>).
        </p>
      )}
      {(history.data === null || (Array.isArray(history.data) && history.data.length === 0)) && (
        <p>Never rotated.</p>
      )}
      {Array.isArray(history.data) && history.data.length > 0 && (
        <RotationRuns runs={history.data} />
      )}
    </section>
  );
}
