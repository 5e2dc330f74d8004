import { Fragment, useState } from 'react';
import {
  Breadcrumb,
  Breadcrumbs,
  Button,
  Cell,
  Column,
  Disclosure,
  DisclosurePanel,
  FieldError,
  Heading,
  Input,
  Label,
  Link,
  Row,
  Table,
  TableBody,
  TableHeader,
  TextField,
  ToggleButton,
} from 'react-aria-components';
import { useLocation, useSearch } from 'wouter';
import { ApiError, describeError, type Envelope, encodePath } from '../api.js';
import { ErrorMessage, StatusMessage } from '../components/messages.js';
import { SecretEditor } from '../components/secret-editor.js';
import { secretHref, segmentsAfter } from '../routes.js';
import { useApi, useLoad } from '../session-context.js';

/** `/secrets`: the KV mounts; `/secrets/<mount>/<folder>/`: a folder; else one secret. */
export function SecretsPage() {
  useLocation(); // re-render on navigation: the names are read from the address
  const search = useSearch();
  const [mount, ...rest] = segmentsAfter('secrets');
  if (mount === undefined || mount === '') return <Mounts />;
  const path = rest.join('/');
  // Keyed by what they show: nothing (a revealed field, a message) carries over to another
  // secret or version.
  const at = JSON.stringify([mount, path, search]);
  return path === '' || path.endsWith('/') ? (
    <Folder key={at} mount={mount} path={path} />
  ) : (
    <Secret key={at} mount={mount} path={path} />
  );
}

interface MountInfo {
  readonly type: string;
  readonly options: { readonly version?: string } | null;
}

function Mounts() {
  const api = useApi();
  const mounts = useLoad(async () => {
    try {
      const answer = await api.get<Envelope<Record<string, MountInfo>>>('sys/mounts');
      return {
        names: Object.entries(answer.data)
          .filter(([, m]) => m.type === 'kv' && m.options?.version === '2')
          .map(([path]) => path.replace(/\/$/, '')),
        listed: true,
      };
    } catch (err) {
      if (err instanceof ApiError && err.status === 403)
        return { names: ['secret'], listed: false };
      throw err;
    }
  }, 'mounts');
  return (
    <section aria-labelledby="mounts-heading">
      <Heading level={1} id="mounts-heading">
        Secrets
      </Heading>
      {mounts.error !== undefined && (
        <ErrorMessage>{describeError(mounts.error, 'list the mounts')}</ErrorMessage>
      )}
      {mounts.data?.listed === false && (
        <p className="note">
          Your token may not list the mounts (<code>sys/mounts</code>): showing <code>secret/</code>
          .
        </p>
      )}
      {mounts.data !== undefined && (
        <ul className="entries" aria-label="Key/value mounts">
          {mounts.data.names.map((name) => (
            <li key={name}>
              <Link href={secretHref(name)}>{name}/</Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Mount and folders as links, the last one the page itself. */
function Trail({ mount, path }: { readonly mount: string; readonly path: string }) {
  const parts = path.split('/').filter((p) => p !== '');
  const folder = (count: number) => `${parts.slice(0, count).join('/')}${count > 0 ? '/' : ''}`;
  return (
    <Breadcrumbs aria-label="Path">
      <Breadcrumb>
        <Link href="/secrets">Secrets</Link>
      </Breadcrumb>
      <Breadcrumb>
        <Link href={secretHref(mount)}>{mount}</Link>
      </Breadcrumb>
      {parts.map((part, i) => (
        <Breadcrumb key={folder(i + 1)}>
          <Link
            href={
              i === parts.length - 1 && !path.endsWith('/')
                ? secretHref(mount, path)
                : secretHref(mount, folder(i + 1))
            }
          >
            {part}
          </Link>
        </Breadcrumb>
      ))}
    </Breadcrumbs>
  );
}

function Folder({ mount, path }: { readonly mount: string; readonly path: string }) {
  const api = useApi();
  const [, navigate] = useLocation();
  const [error, setError] = useState<string>();
  const [name, setName] = useState('');
  const listing = useLoad(async () => {
    try {
      const answer = await api.get<Envelope<{ keys: string[] }>>(
        `${encodeURIComponent(mount)}/metadata/${encodePath(path)}?list=true`,
      );
      return answer.data.keys;
    } catch (err) {
      // An empty folder is a 404, as in Vault.
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }
  }, `${mount}/${path}`);

  const create = async (data: Record<string, unknown>) => {
    const target = `${path}${name.replace(/^\/+/, '')}`;
    setError(undefined);
    try {
      await api.post(`${encodeURIComponent(mount)}/data/${encodePath(target)}`, {
        data,
        options: { cas: 0 },
      });
      navigate(secretHref(mount, target));
    } catch (err) {
      setError(
        err instanceof ApiError && /check-and-set/.test(err.message)
          ? `A secret named ${target} exists already: open it to write a new version.`
          : describeError(err, `write ${mount}/${target}`),
      );
    }
  };

  return (
    <section aria-labelledby="folder-heading">
      <Trail mount={mount} path={path} />
      <Heading level={1} id="folder-heading">
        {mount}/{path}
      </Heading>
      {listing.loading && <p aria-live="polite">Loading…</p>}
      {listing.error !== undefined && (
        <ErrorMessage>{describeError(listing.error, `list ${mount}/${path}`)}</ErrorMessage>
      )}
      {listing.data?.length === 0 && <p>Nothing here yet.</p>}
      {listing.data !== undefined && listing.data.length > 0 && (
        <ul className="entries" aria-label={`Entries of ${mount}/${path}`}>
          {listing.data.map((key) => (
            <li key={key} className={key.endsWith('/') ? 'folder' : 'secret'}>
              <Link href={secretHref(mount, `${path}${key}`)}>{key}</Link>
            </li>
          ))}
        </ul>
      )}
      <Disclosure className="panel">
        <Heading level={2}>
          <Button slot="trigger">New secret</Button>
        </Heading>
        <DisclosurePanel>
          <SecretEditor initial={[]} onSave={create} submitLabel="Create secret">
            <TextField
              value={name}
              onChange={setName}
              isRequired
              autoComplete="off"
              validate={(v) =>
                /(^|\/)\.{1,2}(\/|$)|\/\/|\/$/.test(v)
                  ? 'A name without empty, . or .. parts.'
                  : null
              }
            >
              <Label>Name (under {`${mount}/${path}`})</Label>
              <Input />
              <FieldError />
            </TextField>
          </SecretEditor>
          {error !== undefined && <ErrorMessage>{error}</ErrorMessage>}
        </DisclosurePanel>
      </Disclosure>
    </section>
  );
}

interface SecretData {
  readonly data: Record<string, unknown> | null;
  readonly metadata: { readonly version: number; readonly created_time: string };
}

interface Metadata {
  readonly current_version: number;
  readonly custom_metadata?: Record<string, string> | null;
  readonly versions: Record<
    string,
    {
      readonly created_time: string;
      readonly deletion_time: string;
      readonly destroyed: boolean;
      readonly labels?: string[];
    }
  >;
}

/**
 * Which fields a version added, removed or changed against the one before: names and the kind
 * of change only (values are compared here, never shown).
 */
function fieldChanges(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): [string, string][] {
  const a = before ?? {};
  const b = after ?? {};
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.map((key) => [
    key,
    !(key in a)
      ? 'added'
      : !(key in b)
        ? 'removed'
        : JSON.stringify(a[key]) === JSON.stringify(b[key])
          ? 'unchanged'
          : 'changed',
  ]);
}

const textOf = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function Secret({ mount, path }: { readonly mount: string; readonly path: string }) {
  const api = useApi();
  const search = useSearch();
  const requested = new URLSearchParams(search).get('version');
  const version = requested !== null && /^\d+$/.test(requested) ? requested : undefined;
  const base = `${encodeURIComponent(mount)}/%s/${encodePath(path)}`;
  const at = (kind: string) => base.replace('%s', kind);
  const [revealed, setRevealed] = useState<ReadonlySet<string>>(new Set());
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();

  const secret = useLoad(
    () =>
      api
        .get<Envelope<SecretData>>(
          `${at('data')}${version === undefined ? '' : `?version=${version}`}`,
        )
        .then((a) => a.data),
    `${mount}/${path}@${version ?? ''}`,
  );
  const metadata = useLoad(
    () => api.get<Envelope<Metadata>>(at('metadata')).then((a) => a.data),
    `${mount}/${path}`,
  );

  const copy = async (key: string, value: unknown) => {
    setError(undefined);
    try {
      await navigator.clipboard.writeText(textOf(value));
      setNote(`Copied the value of ${key} to the clipboard.`);
    } catch {
      setError(`Could not copy ${key}: the browser refused access to the clipboard.`);
    }
  };

  const write = async (data: Record<string, unknown>) => {
    setError(undefined);
    setNote(undefined);
    const cas = metadata.data?.current_version ?? secret.data?.metadata.version;
    try {
      const answer = await api.post<Envelope<{ version: number }>>(at('data'), {
        data,
        ...(cas === undefined ? {} : { options: { cas } }),
      });
      setNote(`Saved version ${answer.data.version}.`);
      setRevealed(new Set());
      secret.reload();
      metadata.reload();
    } catch (err) {
      setError(
        err instanceof ApiError && /check-and-set/.test(err.message)
          ? 'Not saved: the secret changed since you opened it. Reload to see the newer version.'
          : describeError(err, `write ${mount}/${path}`),
      );
    }
  };

  // The version before the one shown, for the list of changed fields (names only, never values).
  const shown = secret.data?.metadata.version;
  const previous = useLoad(
    async () => {
      if (shown === undefined || shown < 2) return undefined;
      try {
        return (await api.get<Envelope<SecretData>>(`${at('data')}?version=${shown - 1}`)).data
          .data;
      } catch (err) {
        // Deleted, destroyed or not readable: there is nothing to compare with.
        if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return null;
        throw err;
      }
    },
    `${mount}/${path}@${shown ?? ''}/previous`,
  );

  const fields = Object.entries(secret.data?.data ?? {});
  const versions = Object.entries(metadata.data?.versions ?? {}).sort(
    ([a], [b]) => Number(b) - Number(a),
  );

  return (
    <section aria-labelledby="secret-heading">
      <Trail mount={mount} path={path} />
      <Heading level={1} id="secret-heading">
        {mount}/{path}
      </Heading>
      {secret.data !== undefined && (
        <p className="note">
          Version {secret.data.metadata.version}, written {secret.data.metadata.created_time}
          {version !== undefined && (
            <>
              {' · '}
              <Link href={secretHref(mount, path)}>show the current version</Link>
            </>
          )}
        </p>
      )}
      {secret.loading && <p aria-live="polite">Loading…</p>}
      {secret.error !== undefined && (
        <ErrorMessage>{describeError(secret.error, `read ${mount}/${path}`)}</ErrorMessage>
      )}
      {secret.data !== undefined && (
        <Table aria-label="Fields" className="table fields">
          <TableHeader>
            <Column isRowHeader>Key</Column>
            <Column>Value</Column>
            <Column>Actions</Column>
          </TableHeader>
          <TableBody items={fields.map(([key, value]) => ({ id: key, key, value }))}>
            {(field) => (
              <Row>
                <Cell>{field.key}</Cell>
                <Cell>
                  {revealed.has(field.key) ? (
                    <code className="value">{textOf(field.value)}</code>
                  ) : (
                    <span className="masked">
                      <span aria-hidden="true">••••••••</span>
                      <span className="visually-hidden">hidden</span>
                    </span>
                  )}
                </Cell>
                <Cell>
                  <div className="actions">
                    <ToggleButton
                      isSelected={revealed.has(field.key)}
                      onChange={(on) =>
                        setRevealed((all) => {
                          const next = new Set(all);
                          if (on) next.add(field.key);
                          else next.delete(field.key);
                          return next;
                        })
                      }
                      aria-label={`Reveal ${field.key}`}
                    >
                      Reveal
                    </ToggleButton>
                    <Button
                      onPress={() => copy(field.key, field.value)}
                      aria-label={`Copy ${field.key}`}
                    >
                      Copy
                    </Button>
                  </div>
                </Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
      {note !== undefined && <StatusMessage>{note}</StatusMessage>}
      {error !== undefined && <ErrorMessage>{error}</ErrorMessage>}

      {secret.data !== undefined && (
        <Disclosure className="panel">
          <Heading level={2}>
            <Button slot="trigger">Write a new version</Button>
          </Heading>
          <DisclosurePanel>
            <SecretEditor
              key={`${secret.data.metadata.version}`}
              initial={fields}
              onSave={write}
              submitLabel="Save new version"
            />
          </DisclosurePanel>
        </Disclosure>
      )}

      {shown !== undefined && shown > 1 && previous.data !== undefined && (
        <>
          <Heading level={2}>Changes from version {shown - 1}</Heading>
          {previous.data === null ? (
            <p className="note">
              Version {shown - 1} cannot be read (deleted, destroyed or not allowed).
            </p>
          ) : (
            <ul className="changes" aria-label={`Fields changed since version ${shown - 1}`}>
              {fieldChanges(previous.data, secret.data?.data ?? null).map(([key, change]) => (
                <li key={key}>
                  <code>{key}</code>: {change}
                </li>
              ))}
            </ul>
          )}
        </>
      )}

      <Heading level={2}>Custom metadata</Heading>
      {metadata.data !== undefined &&
        (Object.keys(metadata.data.custom_metadata ?? {}).length === 0 ? (
          <p className="note">
            None (set it with{' '}
            <code>
              {mount}/metadata/{path}
            </code>
            ).
          </p>
        ) : (
          <dl className="facts" aria-label="Custom metadata">
            {Object.entries(metadata.data.custom_metadata ?? {})
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([key, value]) => (
                <Fragment key={key}>
                  <dt>{key}</dt>
                  <dd>{value}</dd>
                </Fragment>
              ))}
          </dl>
        ))}

      <Heading level={2}>Versions</Heading>
      {metadata.error !== undefined && (
        <ErrorMessage>
          {describeError(metadata.error, `read the versions of ${mount}/${path}`)}
        </ErrorMessage>
      )}
      {metadata.data !== undefined && (
        <Table aria-label="Versions" className="table">
          <TableHeader>
            <Column isRowHeader>Version</Column>
            <Column>Written</Column>
            <Column>Labels</Column>
            <Column>State</Column>
          </TableHeader>
          <TableBody items={versions.map(([n, v]) => ({ id: n, n, ...v }))}>
            {(v) => (
              <Row>
                <Cell>
                  <Link href={`${secretHref(mount, path)}?version=${v.n}`}>Version {v.n}</Link>
                </Cell>
                <Cell>{v.created_time}</Cell>
                <Cell>{(v.labels ?? []).join(', ')}</Cell>
                <Cell>
                  {v.destroyed ? 'destroyed' : v.deletion_time !== '' ? 'deleted' : 'live'}
                </Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
    </section>
  );
}
