import { Heading, Link } from 'react-aria-components';
import { ApiError, describeError, type Envelope } from '../api.js';
import { ErrorMessage } from '../components/messages.js';
import { secretHref } from '../routes.js';
import { useApi, useLoad } from '../session-context.js';

interface MountInfo {
  readonly type: string;
  readonly options: { readonly version?: string } | null;
}

/** `/secrets`: the KV version 2 mounts (`secret/` alone when the token may not list them). */
export function Mounts() {
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
