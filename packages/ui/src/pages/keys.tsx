import { useState } from 'react';
import {
  Breadcrumb,
  Breadcrumbs,
  Button,
  Cell,
  Column,
  Dialog,
  DialogTrigger,
  Heading,
  Link,
  Modal,
  Row,
  Table,
  TableBody,
  TableHeader,
} from 'react-aria-components';
import { Redirect, useLocation } from 'wouter';
import { ApiError, describeError, type Envelope } from '../api.js';
import { ErrorMessage, StatusMessage } from '../components/messages.js';
import { keyHref, segmentsAfter } from '../routes.js';
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
}

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
          </DialogTrigger>
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
                  <Cell>{row.encryptions?.toLocaleString('en') ?? '—'}</Cell>
                </Row>
              )}
            </TableBody>
          </Table>
        </>
      )}
    </section>
  );
}
