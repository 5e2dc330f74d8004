import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { kvPath } from './pairs.js';

interface Options extends ServerFlags {
  mount: string;
  /** A data class: the server filters by it (docs/classification.md). */
  class?: string;
}

export async function run(path: string, options: Options): Promise<number> {
  const folder = path === '' || path.endsWith('/') ? path : `${path}/`;
  const { status, body } = await serverClient(options).request(
    'GET',
    `${kvPath(options.mount, 'metadata', folder)}?list=true${
      options.class === undefined ? '' : `&data_class=${encodeURIComponent(options.class)}`
    }`,
    { allowStatus: [404] },
  );
  if (status === 404) return ExitCode.ok;
  for (const key of (body as { data: { keys: string[] } }).data.keys) print(key);
  return ExitCode.ok;
}
