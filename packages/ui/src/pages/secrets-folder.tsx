import { useState } from 'react';
import {
  Button,
  Disclosure,
  DisclosurePanel,
  FieldError,
  Heading,
  Input,
  Label,
  Link,
  TextField,
  ToggleButton,
  ToggleButtonGroup,
} from 'react-aria-components';
import { useLocation, useSearch } from 'wouter';
import { ApiError, describeError, type Envelope, encodePath } from '../api.js';
import { ErrorMessage } from '../components/messages.js';
import { SecretEditor } from '../components/secret-editor.js';
import { Trail } from '../components/trail.js';
import { ClassBadge, DATA_CLASSES, type DataClass, dataClassOfQuery } from '../data-classes.js';
import { secretHref } from '../routes.js';
import { type Api, useApi, useLoad } from '../session-context.js';

/** A folder's listing (`LIST`, filtered by class when asked); an empty folder is a 404. */
async function listFolder(
  get: Api['get'],
  mount: string,
  path: string,
  dataClass?: DataClass,
): Promise<string[]> {
  try {
    const answer = await get<Envelope<{ keys: string[] }>>(
      `${encodeURIComponent(mount)}/metadata/${encodePath(path)}?list=true${
        dataClass === undefined ? '' : `&data_class=${encodeURIComponent(dataClass)}`
      }`,
    );
    return answer.data.keys;
  } catch (err) {
    // An empty folder (or none of that class) is a 404, as in Vault.
    if (err instanceof ApiError && err.status === 404) return [];
    throw err;
  }
}

/**
 * Each secret's class in a folder, from one filtered LIST per class (the server judges each
 * key's metadata by the token's policies): a constant number of requests however many secrets
 * the folder holds. A class that cannot be listed leaves its secrets without a badge.
 */
async function classesOf(api: Api, mount: string, path: string): Promise<Map<string, DataClass>> {
  const found = new Map<string, DataClass>();
  const lists = await Promise.all(
    DATA_CLASSES.map((c) => listFolder(api.peek, mount, path, c).catch(() => [] as string[])),
  );
  DATA_CLASSES.forEach((c, i) => {
    for (const key of lists[i] ?? []) if (!key.endsWith('/')) found.set(key, c);
  });
  return found;
}

/** `?class=` kept on links within the secrets browser, so descending keeps the filter. */
const withClass = (href: string, dataClass: DataClass | undefined) =>
  dataClass === undefined ? href : `${href}?class=${encodeURIComponent(dataClass)}`;

/** The class filter: all, or one class; the choice is in the address (a reload keeps it). */
function ClassFilter({
  mount,
  path,
  selected,
}: {
  readonly mount: string;
  readonly path: string;
  readonly selected: DataClass | undefined;
}) {
  const [, navigate] = useLocation();
  return (
    <div className="class-filter">
      <span id="class-filter-label" className="filter-label">
        Data class
      </span>
      <ToggleButtonGroup
        aria-labelledby="class-filter-label"
        selectionMode="single"
        disallowEmptySelection
        selectedKeys={[selected ?? 'all']}
        onSelectionChange={(keys) => {
          const [key] = [...keys];
          const next = DATA_CLASSES.find((c) => c === key);
          navigate(withClass(secretHref(mount, path), next));
        }}
        className="toggle-group"
      >
        <ToggleButton id="all">All</ToggleButton>
        {DATA_CLASSES.map((c) => (
          <ToggleButton key={c} id={c}>
            {c}
          </ToggleButton>
        ))}
      </ToggleButtonGroup>
    </div>
  );
}

/** `/secrets/<mount>/<folder>/[?class=<class>]`: a folder's entries, each secret's class. */
export function Folder({ mount, path }: { readonly mount: string; readonly path: string }) {
  const api = useApi();
  const [, navigate] = useLocation();
  const [error, setError] = useState<string>();
  const [name, setName] = useState('');
  const filter = dataClassOfQuery(useSearch());
  const listing = useLoad(
    () => listFolder(api.get, mount, path, filter),
    `${mount}/${path}?${filter ?? ''}`,
  );
  const classes = useLoad(() => classesOf(api, mount, path), `${mount}/${path}`);

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
      <ClassFilter mount={mount} path={path} selected={filter} />
      {listing.data?.length === 0 &&
        (filter === undefined ? (
          <p>Nothing here yet.</p>
        ) : (
          <p>No secret of class {filter} here.</p>
        ))}
      {listing.data !== undefined && listing.data.length > 0 && (
        <ul
          className="entries"
          aria-label={`Entries of ${mount}/${path}${filter === undefined ? '' : ` of class ${filter}`}`}
        >
          {listing.data.map((key) => (
            <li key={key} className={key.endsWith('/') ? 'folder' : 'secret'}>
              <Link
                href={
                  key.endsWith('/')
                    ? withClass(secretHref(mount, `${path}${key}`), filter)
                    : secretHref(mount, `${path}${key}`)
                }
              >
                {key}
              </Link>
              {classes.data?.has(key) === true && (
                <>
                  {' '}
                  <ClassBadge dataClass={classes.data.get(key) ?? ''} />
                </>
              )}
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
