import { Fragment, lazy, Suspense, useState } from 'react';
import {
  Button,
  Cell,
  Column,
  Disclosure,
  DisclosurePanel,
  Heading,
  Link,
  Row,
  Table,
  TableBody,
  TableHeader,
  ToggleButton,
} from 'react-aria-components';
import { useLocation, useSearch } from 'wouter';
import { ApiError, describeError, type Envelope, encodePath } from '../api.js';
import { ErrorMessage, StatusMessage } from '../components/messages.js';
import { SecretEditor } from '../components/secret-editor.js';
import { Trail } from '../components/trail.js';
import { ClassBadge } from '../data-classes.js';
import { secretHref, segmentsAfter } from '../routes.js';
import { useApi, useLoad } from '../session-context.js';
import { Folder } from './secrets-folder.js';
import { Mounts } from './secrets-mounts.js';

// A secret's data class editor and its rotation (policy, labels, history) load on first use:
// the first load stays small.
const ClassEditor = lazy(() =>
  import('../components/class-editor.js').then((m) => ({ default: m.ClassEditor })),
);
const SecretRotation = lazy(() =>
  import('../components/secret-rotation.js').then((m) => ({ default: m.SecretRotation })),
);

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
  const dataClass = metadata.data?.custom_metadata?.data_class ?? undefined;
  const stages: Record<string, number> = {};
  for (const [n, v] of Object.entries(metadata.data?.versions ?? {}))
    for (const label of v.labels ?? []) stages[label] = Number(n);
  const versions = Object.entries(metadata.data?.versions ?? {}).sort(
    ([a], [b]) => Number(b) - Number(a),
  );

  return (
    <section aria-labelledby="secret-heading">
      <Trail mount={mount} path={path} />
      <Heading level={1} id="secret-heading">
        {mount}/{path}
      </Heading>
      {dataClass !== undefined && (
        <p className="note">
          Data class: <ClassBadge dataClass={dataClass} />
        </p>
      )}
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
      {metadata.data !== undefined && (
        <Disclosure className="panel">
          <Heading level={3}>
            <Button slot="trigger">Set the data class</Button>
          </Heading>
          <DisclosurePanel>
            <Suspense fallback={<p aria-live="polite">Loading…</p>}>
              <ClassEditor
                mount={mount}
                path={path}
                current={dataClass}
                onSaved={metadata.reload}
              />
            </Suspense>
          </DisclosurePanel>
        </Disclosure>
      )}

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
                <Cell>
                  {(v.labels ?? []).map((label) => (
                    <Fragment key={label}>
                      <span className={`badge badge-stage-${label}`}>{label}</span>{' '}
                    </Fragment>
                  ))}
                </Cell>
                <Cell>
                  {v.destroyed ? 'destroyed' : v.deletion_time !== '' ? 'deleted' : 'live'}
                </Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
      <Suspense fallback={<p aria-live="polite">Loading…</p>}>
        <SecretRotation
          mount={mount}
          path={path}
          stages={stages}
          onRotated={() => {
            // The current version moved: nothing revealed carries over to the new value.
            setRevealed(new Set());
            secret.reload();
            metadata.reload();
          }}
        />
      </Suspense>
    </section>
  );
}
