import { type FormEvent, useState } from 'react';
import {
  Button,
  Dialog,
  DialogTrigger,
  FieldError,
  Form,
  Heading,
  Input,
  Label,
  Modal,
  TextField,
} from 'react-aria-components';
import { describeError, encodePath } from '../api.js';
import { busyThenClose } from '../busy.js';

/** What `sys/rotate-secret` and `sys/rotation-approve` answer (the parts shown). */
export interface RotateAnswer {
  readonly result: string;
  readonly new_version?: number;
  readonly error?: string;
  readonly request_id?: string;
  readonly approvals_required?: number;
  readonly next_due?: string;
}

/**
 * What to tell the user about a rotation's answer: a note for one that did what was asked (or
 * waits for approval), undefined for one that failed or was rolled back.
 *
 * @example
 * ```ts
 * rotationNote('secret/app/api', { result: 'succeeded', new_version: 3 });
 * // 'Rotated secret/app/api: version 3 is now current.'
 * ```
 */
export function rotationNote(secret: string, answer: RotateAnswer): string | undefined {
  switch (answer.result) {
    case 'succeeded':
      return `Rotated ${secret}: version ${answer.new_version ?? '?'} is now current.`;
    case 'approval_required':
      return `The rotation of ${secret} waits for ${answer.approvals_required ?? 1} approval(s) (request ${answer.request_id ?? ''}).`;
    case 'not_due':
      return `${secret} is not due until ${answer.next_due ?? '?'}.`;
    default:
      return undefined;
  }
}

/** What went wrong in a rotation that answered, but neither succeeded nor waits. */
export function rotationFailure(secret: string, answer: RotateAnswer): string {
  return `The rotation of ${secret} ${answer.result === 'rolled_back' ? 'was rolled back' : 'failed'}: ${answer.error ?? 'see its history'}.`;
}

/**
 * Rotate now, with a reason (recorded in the history and the audit log): required. Used by the
 * rotation page's rows and by a secret's page.
 *
 * @example
 * ```tsx
 * <RotateDialog secret={name} onRotate={(secret, reason) => rotate(secret, reason)} />
 * ```
 */
export function RotateDialog({
  secret,
  onRotate,
}: {
  readonly secret: string;
  readonly onRotate: (secret: string, reason: string) => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState('');
  return (
    <DialogTrigger onOpenChange={(open) => open && setReason('')}>
      <Button aria-label={`Rotate ${secret}…`}>Rotate…</Button>
      <Modal className="modal" isDismissable={!busy}>
        <Dialog className="dialog">
          {({ close }) => {
            const submit = async (event: FormEvent<HTMLFormElement>) => {
              event.preventDefault();
              await busyThenClose(setBusy, () => onRotate(secret, reason.trim()), close);
            };
            return (
              <Form onSubmit={submit}>
                <Heading slot="title" level={2}>
                  Rotate {secret} now?
                </Heading>
                <p>
                  A new value is made, applied and tested; the old one stays valid for the grace
                  period. A policy with two-person approval waits for the approvals instead.
                </p>
                <TextField
                  name="reason"
                  isRequired
                  autoFocus
                  value={reason}
                  onChange={setReason}
                  validate={(value) =>
                    value.trim() === '' ? 'Say why (it is kept in the history).' : null
                  }
                >
                  <Label>Reason</Label>
                  <Input />
                  <FieldError />
                </TextField>
                <div className="actions">
                  <Button className="react-aria-Button quiet" onPress={close}>
                    Cancel
                  </Button>
                  <Button type="submit" isPending={busy}>
                    Rotate now
                  </Button>
                </div>
              </Form>
            );
          }}
        </Dialog>
      </Modal>
    </DialogTrigger>
  );
}

/**
 * Rotates `secret` at once (`sys/rotate-secret` with `force`) and says how it went: `ok` false
 * for a refusal, a failure or a rollback.
 *
 * @example
 * ```ts
 * const outcome = await rotateNow(api.post, 'secret/app/api', 'key in a public log');
 * (outcome.ok ? setNote : setError)(outcome.text);
 * ```
 */
export async function rotateNow(
  post: <T>(path: string, body?: unknown) => Promise<T>,
  secret: string,
  reason: string,
): Promise<{ readonly ok: boolean; readonly text: string }> {
  try {
    const answer = (
      await post<{ data: RotateAnswer }>(`sys/rotate-secret/${encodePath(secret)}`, {
        force: true,
        reason,
      })
    ).data;
    const said = rotationNote(secret, answer);
    return said === undefined
      ? { ok: false, text: rotationFailure(secret, answer) }
      : { ok: true, text: said };
  } catch (err) {
    return { ok: false, text: describeError(err, `rotate ${secret}`) };
  }
}
