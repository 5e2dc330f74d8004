import { type FormEvent, useState } from 'react';
import {
  Breadcrumb,
  Breadcrumbs,
  Button,
  Cell,
  Column,
  Dialog,
  DialogTrigger,
  FieldError,
  Form,
  Heading,
  Input,
  Label,
  Link,
  Modal,
  Radio,
  RadioGroup,
  Row,
  Switch,
  Table,
  TableBody,
  TableHeader,
  TextField,
} from 'react-aria-components';
import { Redirect, useLocation } from 'wouter';
import { ApiError, describeError, type Envelope } from '../api.js';
import { busyThenClose } from '../busy.js';
import { ErrorMessage, StatusMessage } from '../components/messages.js';
import { keyHref, segmentsAfter } from '../routes.js';
import { NEXT_STATES, type UsageEntry } from '../server-lists.js';
import { useApi, useLoad } from '../session-context.js';

/** A transit key as `transit/keys/:name` reads it (the fields shown). */
interface TransitKey {
  readonly name: string;
  readonly type: string;
  readonly state?: string;
  readonly purpose?: string;
  /** Version → creation time (Unix seconds). */
  readonly keys: Record<string, number | Record<string, unknown>>;
  readonly latest_version: number;
  readonly min_decryption_version: number;
  readonly min_encryption_version: number;
  readonly encryptions?: Record<string, number>;
  readonly rotate_after_encryptions?: number;
  readonly deletion_allowed?: boolean;
  readonly auto_rotate_period?: number;
}

const STATE_MEANING: Record<string, string> = {
  active: 'encrypts and decrypts',
  inactive: 'decrypts only; no new encryptions',
  rotating: 'encrypts and decrypts while its ciphertexts are rewrapped',
  revoked: 'final: decrypts only with decrypt_after_revocation, never encrypts again',
  pending_deletion: 'nothing works with it until the deletion is cancelled',
};

/** `/keys/<mount>/`: the keys; `/keys/<mount>/<name>`: one key. */
export function KeysPage() {
  useLocation(); // re-render on navigation: the names are read from the address
  const [mount, name] = segmentsAfter('keys');
  if (mount === undefined || mount === '') return <Redirect to={keyHref('transit')} replace />;
  return name === undefined || name === '' ? (
    <KeysList key={mount} mount={mount} />
  ) : (
    <KeyDetail key={JSON.stringify([mount, name])} mount={mount} name={name} />
  );
}

/** `n of limit (p %)`: a version rotates once it reaches the key's limit. */
function usageOf(count: number | undefined, key: TransitKey): string {
  if (count === undefined) return '—';
  const limit = key.rotate_after_encryptions;
  if (limit === undefined || limit <= 0) return count.toLocaleString('en');
  const share = (count / limit) * 100;
  return `${count.toLocaleString('en')} of ${limit.toLocaleString('en')} (${share < 0.1 && count > 0 ? '<0.1' : share.toFixed(1)} %)`;
}

const created = (value: number | Record<string, unknown>) => {
  const seconds = typeof value === 'number' ? value : Number(value.creation_time ?? Number.NaN);
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : '';
};

function KeysList({ mount }: { readonly mount: string }) {
  const api = useApi();
  const keys = useLoad(async () => {
    let names: string[];
    try {
      names = (
        await api.get<Envelope<{ keys: string[] }>>(`${encodeURIComponent(mount)}/keys?list=true`)
      ).data.keys;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }
    // Each key read on its own: one the token may not read shows as such, the others still show.
    return Promise.all(
      names.map(async (name) => {
        try {
          const key = (
            await api.get<Envelope<TransitKey>>(
              `${encodeURIComponent(mount)}/keys/${encodeURIComponent(name)}`,
            )
          ).data;
          return { id: name, name, key };
        } catch (error) {
          return { id: name, name, error };
        }
      }),
    );
  }, mount);

  return (
    <section aria-labelledby="keys-heading">
      <Heading level={1} id="keys-heading">
        Transit keys at {mount}/
      </Heading>
      {keys.loading && <p aria-live="polite">Loading…</p>}
      {keys.error !== undefined && (
        <ErrorMessage>{describeError(keys.error, `list the keys of ${mount}/`)}</ErrorMessage>
      )}
      {keys.data?.length === 0 && <p>No keys yet.</p>}
      {keys.data !== undefined && keys.data.length > 0 && (
        <Table aria-label="Transit keys" className="table">
          <TableHeader>
            <Column isRowHeader>Name</Column>
            <Column>Type</Column>
            <Column>State</Column>
            <Column>Latest version</Column>
            <Column>Encryptions (latest)</Column>
            <Column>Oldest decryptable</Column>
          </TableHeader>
          <TableBody items={keys.data}>
            {(item) => (
              <Row>
                <Cell>
                  <Link href={keyHref(mount, item.name)}>{item.name}</Link>
                </Cell>
                <Cell>{item.key?.type ?? '—'}</Cell>
                <Cell>
                  {item.key?.state ??
                    (item.error === undefined ? '—' : 'not readable with your token')}
                </Cell>
                <Cell>{item.key?.latest_version ?? '—'}</Cell>
                <Cell>
                  {item.key === undefined
                    ? '—'
                    : usageOf(item.key.encryptions?.[String(item.key.latest_version)], item.key)}
                </Cell>
                <Cell>{item.key?.min_decryption_version ?? '—'}</Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

function KeyDetail({ mount, name }: { readonly mount: string; readonly name: string }) {
  const api = useApi();
  const path = `${encodeURIComponent(mount)}/keys/${encodeURIComponent(name)}`;
  const key = useLoad(() => api.get<Envelope<TransitKey>>(path).then((a) => a.data), path);
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const rotate = async (close: () => void) => {
    setBusy(true);
    setError(undefined);
    setNote(undefined);
    try {
      await api.post(`${path}/rotate`);
      const after = (await api.get<Envelope<TransitKey>>(path)).data;
      setNote(`Rotated: version ${after.latest_version} is now the latest.`);
      key.reload();
    } catch (err) {
      setError(describeError(err, `rotate the key ${name}`));
    } finally {
      setBusy(false);
      close();
    }
  };

  const change = async (request: () => Promise<unknown>, action: string, done: string) => {
    setError(undefined);
    setNote(undefined);
    try {
      await request();
      setNote(done);
      key.reload();
    } catch (err) {
      setError(describeError(err, action));
    }
  };

  const k = key.data;
  const versions = Object.entries(k?.keys ?? {}).sort(([a], [b]) => Number(b) - Number(a));
  return (
    <section aria-labelledby="key-heading">
      <Breadcrumbs aria-label="Path">
        <Breadcrumb>
          <Link href={keyHref(mount)}>Keys at {mount}/</Link>
        </Breadcrumb>
        <Breadcrumb>
          <Link href={keyHref(mount, name)}>{name}</Link>
        </Breadcrumb>
      </Breadcrumbs>
      <Heading level={1} id="key-heading">
        {name}
      </Heading>
      {key.loading && <p aria-live="polite">Loading…</p>}
      {key.error !== undefined && (
        <ErrorMessage>{describeError(key.error, `read the key ${name}`)}</ErrorMessage>
      )}
      {k !== undefined && (
        <>
          <dl className="facts">
            <dt>Type</dt>
            <dd>{k.type}</dd>
            <dt>State</dt>
            <dd>{k.state ?? 'active'}</dd>
            {k.purpose !== undefined && (
              <>
                <dt>Purpose</dt>
                <dd>{k.purpose}</dd>
              </>
            )}
            <dt>Latest version</dt>
            <dd>{k.latest_version}</dd>
            <dt>Oldest version that decrypts</dt>
            <dd>{k.min_decryption_version}</dd>
            <dt>Deletion allowed</dt>
            <dd>{k.deletion_allowed === true ? 'yes' : 'no'}</dd>
            {k.auto_rotate_period !== undefined && k.auto_rotate_period > 0 && (
              <>
                <dt>Rotates every</dt>
                <dd>{Math.round(k.auto_rotate_period / 3600)} h</dd>
              </>
            )}
            {k.rotate_after_encryptions !== undefined && (
              <>
                <dt>Rotates after</dt>
                <dd>{k.rotate_after_encryptions.toLocaleString('en')} encryptions</dd>
              </>
            )}
          </dl>
          <DialogTrigger>
            <Button>Rotate key…</Button>
            <Modal className="modal" isDismissable={!busy}>
              <Dialog role="alertdialog" className="dialog">
                {({ close }) => (
                  <>
                    <Heading slot="title" level={2}>
                      Rotate {name}?
                    </Heading>
                    <p>
                      Version {k.latest_version + 1} becomes the version new encryptions use.
                      Ciphertexts of older versions still decrypt (from version{' '}
                      {k.min_decryption_version} on) until you rewrap them.
                    </p>
                    <div className="actions">
                      <Button className="react-aria-Button quiet" onPress={close} autoFocus>
                        Cancel
                      </Button>
                      <Button onPress={() => rotate(close)} isPending={busy}>
                        Rotate
                      </Button>
                    </div>
                  </>
                )}
              </Dialog>
            </Modal>
          </DialogTrigger>{' '}
          <KeySettingsDialog
            name={name}
            keyData={k}
            onApply={(body) =>
              change(
                () => api.post(`${path}/config`, body),
                `change the settings of ${name}`,
                'Settings changed.',
              )
            }
          />{' '}
          <KeyStateDialog
            name={name}
            state={k.state ?? 'active'}
            onApply={(state) =>
              change(
                () => api.post(`${path}/state`, { state }),
                `change the state of ${name}`,
                `State changed to ${state.replace('_', ' ')}.`,
              )
            }
          />
        </>
      )}
      {note !== undefined && <StatusMessage>{note}</StatusMessage>}
      {error !== undefined && <ErrorMessage>{error}</ErrorMessage>}
      {k !== undefined && (
        <>
          <Heading level={2}>Versions</Heading>
          <Table aria-label="Key versions" className="table">
            <TableHeader>
              <Column isRowHeader>Version</Column>
              <Column>Created</Column>
              <Column>Encryptions</Column>
            </TableHeader>
            <TableBody
              items={versions.map(([v, value]) => ({
                id: v,
                v,
                created: created(value),
                encryptions: k.encryptions?.[v],
              }))}
            >
              {(row) => (
                <Row>
                  <Cell>
                    {row.v}
                    {Number(row.v) === k.latest_version ? ' (latest)' : ''}
                  </Cell>
                  <Cell>{row.created}</Cell>
                  <Cell>{usageOf(row.encryptions, k)}</Cell>
                </Row>
              )}
            </TableBody>
          </Table>
          <UsageLog path={path} />
        </>
      )}
    </section>
  );
}

/** The key's usage log, newest first (who, what, which version; never a value or token). */
function UsageLog({ path }: { readonly path: string }) {
  const api = useApi();
  const usage = useLoad(async () => {
    try {
      return (await api.get<Envelope<{ usage: UsageEntry[] }>>(`${path}/usage?limit=50`)).data
        .usage;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return 'denied' as const;
      throw err;
    }
  }, `${path}/usage`);
  return (
    <>
      <Heading level={2}>Usage (latest 50)</Heading>
      {usage.data === 'denied' && (
        <p className="note">
          Your token may not read the usage log (<code>read</code> on{' '}
          <code>{decodeURIComponent(path)}/usage</code>).
        </p>
      )}
      {usage.error !== undefined && (
        <ErrorMessage>{describeError(usage.error, 'read the usage log')}</ErrorMessage>
      )}
      {Array.isArray(usage.data) && usage.data.length === 0 && <p>Not used yet.</p>}
      {Array.isArray(usage.data) && usage.data.length > 0 && (
        <Table aria-label="Key usage" className="table">
          <TableHeader>
            <Column isRowHeader>Time</Column>
            <Column>Operation</Column>
            <Column>Version</Column>
            <Column>By</Column>
            <Column>Result</Column>
            <Column>Request</Column>
          </TableHeader>
          <TableBody items={usage.data.map((entry, i) => ({ id: i, ...entry }))}>
            {(entry) => (
              <Row>
                <Cell>{entry.time}</Cell>
                <Cell>{entry.operation}</Cell>
                <Cell>{entry.version ?? '—'}</Cell>
                <Cell>{entry.display_name}</Cell>
                <Cell>{entry.success ? 'ok' : 'failed'}</Cell>
                <Cell>
                  <code>{entry.request_id}</code>
                </Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
    </>
  );
}

/** `transit/keys/:name/config`, behind this dialog: the floor of decryptable versions, deletion. */
function KeySettingsDialog({
  name,
  keyData,
  onApply,
}: {
  readonly name: string;
  readonly keyData: TransitKey;
  readonly onApply: (body: Record<string, unknown>) => Promise<void>;
}) {
  const [floor, setFloor] = useState(String(keyData.min_decryption_version));
  const [deletion, setDeletion] = useState(keyData.deletion_allowed === true);
  const [busy, setBusy] = useState(false);
  const reset = (open: boolean) => {
    if (!open) return;
    setFloor(String(keyData.min_decryption_version));
    setDeletion(keyData.deletion_allowed === true);
  };
  const floorNumber = Number(floor);
  const raises = Number.isInteger(floorNumber) && floorNumber > keyData.min_decryption_version;
  return (
    <DialogTrigger onOpenChange={reset}>
      <Button>Change settings…</Button>
      <Modal className="modal" isDismissable={!busy}>
        <Dialog role="alertdialog" className="dialog">
          {({ close }) => {
            const submit = async (event: FormEvent<HTMLFormElement>) => {
              event.preventDefault();
              const body: Record<string, unknown> = {};
              if (floorNumber !== keyData.min_decryption_version)
                body.min_decryption_version = floorNumber;
              if (deletion !== (keyData.deletion_allowed === true))
                body.deletion_allowed = deletion;
              if (Object.keys(body).length === 0) return close();
              await busyThenClose(setBusy, () => onApply(body), close);
            };
            return (
              <Form onSubmit={submit}>
                <Heading slot="title" level={2}>
                  Change the settings of {name}?
                </Heading>
                <TextField
                  name="min_decryption_version"
                  inputMode="numeric"
                  isRequired
                  value={floor}
                  onChange={setFloor}
                  validate={(value) => {
                    const n = Number(value);
                    return Number.isInteger(n) && n >= 1 && n <= keyData.latest_version
                      ? null
                      : `A version from 1 to ${keyData.latest_version}.`;
                  }}
                >
                  <Label>Oldest version that decrypts</Label>
                  <Input />
                  <FieldError />
                </TextField>
                {raises && (
                  <p className="message message-error">
                    Ciphertexts of versions below {floorNumber} will no longer decrypt (rewrap them
                    first).
                  </p>
                )}
                <Switch isSelected={deletion} onChange={setDeletion}>
                  <span className="switch-indicator" aria-hidden="true" />
                  Allow deleting the key
                </Switch>
                <div className="actions">
                  <Button className="react-aria-Button quiet" onPress={close} autoFocus>
                    Cancel
                  </Button>
                  <Button type="submit" isPending={busy}>
                    Apply
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

/** `transit/keys/:name/state`: the moves the lifecycle allows from the state in force. */
function KeyStateDialog({
  name,
  state,
  onApply,
}: {
  readonly name: string;
  readonly state: string;
  readonly onApply: (state: string) => Promise<void>;
}) {
  const choices = NEXT_STATES[state] ?? [];
  const [next, setNext] = useState<string>('');
  const [busy, setBusy] = useState(false);
  if (choices.length === 0) return null;
  return (
    <DialogTrigger onOpenChange={(open) => open && setNext('')}>
      <Button>Change state…</Button>
      <Modal className="modal" isDismissable={!busy}>
        <Dialog role="alertdialog" className="dialog">
          {({ close }) => {
            const submit = async (event: FormEvent<HTMLFormElement>) => {
              event.preventDefault();
              if (next === '') return;
              await busyThenClose(setBusy, () => onApply(next), close);
            };
            return (
              <Form onSubmit={submit}>
                <Heading slot="title" level={2}>
                  Change the state of {name}?
                </Heading>
                <p>It is {state.replace('_', ' ')} now.</p>
                <RadioGroup isRequired value={next} onChange={setNext} className="choices">
                  <Label>New state</Label>
                  {choices.map((choice) => (
                    <Radio key={choice} value={choice}>
                      <strong>{choice.replace('_', ' ')}</strong>: {STATE_MEANING[choice] ?? ''}
                    </Radio>
                  ))}
                </RadioGroup>
                <div className="actions">
                  <Button className="react-aria-Button quiet" onPress={close} autoFocus>
                    Cancel
                  </Button>
                  <Button type="submit" isPending={busy} isDisabled={next === ''}>
                    Change state
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
