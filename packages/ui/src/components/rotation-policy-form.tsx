import { type FormEvent, useId, useState } from 'react';
import {
  Button,
  FieldError,
  Form,
  Input,
  Label,
  Switch,
  Text,
  TextArea,
  TextField,
} from 'react-aria-components';

/** A secret's rotation policy as `GET sys/rotation/<secret>` answers it. */
export interface PolicyView {
  readonly type?: string;
  readonly rotator: string;
  readonly schedule: string;
  readonly schedule_kind?: string;
  readonly window?: string;
  readonly grace_period: string;
  readonly automatic: boolean;
  readonly notify_before: string;
  readonly settings: Record<string, unknown>;
  readonly approvals?: number;
  readonly approval_ttl?: string;
  readonly created_time?: string;
}

/**
 * The body of `POST sys/rotation/<secret>` that writes `policy` again with `changes`: the
 * route replaces the whole policy, so everything stored is sent back (in the form it was read).
 *
 * @example
 * ```ts
 * await api.post(`sys/rotation/${secret}`, policyBody(policy, { automatic: false }));
 * ```
 */
export function policyBody(
  policy: PolicyView,
  changes: Partial<PolicyView> = {},
): Record<string, unknown> {
  const p = { ...policy, ...changes };
  return {
    ...(p.type === undefined ? {} : { type: p.type }),
    rotator: p.rotator,
    schedule: p.schedule,
    ...(p.window === undefined || p.window === '' ? {} : { window: p.window }),
    grace_period: p.grace_period,
    automatic: p.automatic,
    notify_before: p.notify_before,
    settings: p.settings,
    ...((p.approvals ?? 0) === 0 ? {} : { approvals: p.approvals }),
    ...(p.approval_ttl === undefined || p.approval_ttl === '' || (p.approvals ?? 0) === 0
      ? {}
      : { approval_ttl: p.approval_ttl }),
  };
}

/** Settings typed as JSON: an object, else why not. */
function settingsError(text: string): string | null {
  if (text.trim() === '') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? null
      : 'Settings are a JSON object ({} for none).';
  } catch {
    return 'Settings are a JSON object ({} for none).';
  }
}

/**
 * The form that writes a secret's rotation policy. Only the settings' JSON is checked here;
 * everything else is judged by the server, whose refusal the page shows as it is given.
 * Settings never hold a secret (a rotator names another secret's path for credentials).
 */
export function RotationPolicyForm({
  initial,
  onSave,
  submitLabel,
}: {
  readonly initial: PolicyView | undefined;
  readonly onSave: (body: Record<string, unknown>) => Promise<void>;
  readonly submitLabel: string;
}) {
  const id = useId();
  const [rotator, setRotator] = useState(initial?.rotator ?? 'random');
  const [schedule, setSchedule] = useState(initial?.schedule ?? '90d');
  const [windowText, setWindow] = useState(initial?.window ?? '');
  const [grace, setGrace] = useState(initial?.grace_period ?? '0s');
  const [notify, setNotify] = useState(initial?.notify_before ?? '0s');
  const [automatic, setAutomatic] = useState(initial?.automatic ?? true);
  const [approvals, setApprovals] = useState(String(initial?.approvals ?? 0));
  const [approvalTtl, setApprovalTtl] = useState(initial?.approval_ttl ?? '');
  const [settings, setSettings] = useState(JSON.stringify(initial?.settings ?? {}, null, 2));
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    // The field's own check stops the form first; this keeps a bad JSON from ever being sent.
    if (settingsError(settings) !== null) return;
    const count = /^\d+$/.test(approvals.trim()) ? Number(approvals.trim()) : approvals;
    const body: Record<string, unknown> = {
      ...(initial?.type === undefined ? {} : { type: initial.type }),
      rotator: rotator.trim(),
      schedule: schedule.trim(),
      ...(windowText.trim() === '' ? {} : { window: windowText.trim() }),
      grace_period: grace.trim(),
      notify_before: notify.trim(),
      automatic,
      settings: settings.trim() === '' ? {} : JSON.parse(settings),
      ...(count === 0 ? {} : { approvals: count }),
      ...(approvalTtl.trim() === '' ? {} : { approval_ttl: approvalTtl.trim() }),
    };
    setBusy(true);
    try {
      await onSave(body);
    } finally {
      setBusy(false);
    }
  };

  const text = (
    label: string,
    value: string,
    set: (v: string) => void,
    help: string,
    required = false,
  ) => (
    <TextField value={value} onChange={set} isRequired={required} autoComplete="off">
      <Label>{label}</Label>
      <Input spellCheck={false} />
      <Text slot="description" className="note">
        {help}
      </Text>
      <FieldError />
    </TextField>
  );

  return (
    <Form onSubmit={submit} className="policy-form" aria-labelledby={`${id}-legend`}>
      <p id={`${id}-legend`} className="visually-hidden">
        Rotation policy
      </p>
      {text(
        'Rotator',
        rotator,
        setRotator,
        'random, jwt-keyset, redis-acl, postgres-password, webhook, transit-key, or one the server adds.',
        true,
      )}
      {text(
        'Schedule',
        schedule,
        setSchedule,
        'A duration of at least 4h (90d), or a five-field cron expression in UTC (0 3 * * 0).',
        true,
      )}
      {text('Window', windowText, setWindow, 'Cron only: how long after a due time it may start.')}
      {text(
        'Grace period',
        grace,
        setGrace,
        'How long the replaced value keeps working (0s: none).',
      )}
      {text('Notify before', notify, setNotify, 'Announce the secret this long before it is due.')}
      {text('Approvals', approvals, setApprovals, 'Others who must approve a rotation (0–5).')}
      {text(
        'Approval TTL',
        approvalTtl,
        setApprovalTtl,
        'With approvals: how long a request waits.',
      )}
      <TextField value={settings} onChange={setSettings} validate={settingsError}>
        <Label>Settings (JSON)</Label>
        <TextArea spellCheck={false} rows={4} className="react-aria-Input settings" />
        <Text slot="description" className="note">
          The rotator's settings; never a secret (credentials are named by a secret's path).
        </Text>
        <FieldError />
      </TextField>
      <Switch isSelected={automatic} onChange={setAutomatic}>
        <span className="switch-indicator" aria-hidden="true" />
        Rotate automatically when due
      </Switch>
      <div className="actions">
        <Button type="submit" isPending={busy}>
          {submitLabel}
        </Button>
      </div>
    </Form>
  );
}
