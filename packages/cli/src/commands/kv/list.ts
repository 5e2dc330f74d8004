import { ExitCode } from '../../exit-codes.js';
import { api, serverTarget } from '../../http-client.js';
import { print } from '../../output.js';
import { kvPath } from './pairs.js';

interface Options {
  mount: string;
}

export async function run(path: string, options: Options): Promise<number> {
  const folder = path === '' || path.endsWith('/') ? path : `${path}/`;
  const { status, body } = await api(
    serverTarget(),
    'GET',
    `${kvPath(options.mount, 'metadata', folder)}?list=true`,
    undefined,
    {
      allowStatus: [404],
    },
  );
  if (status === 404) return ExitCode.ok;
  for (const key of (body as { data: { keys: string[] } }).data.keys) print(key);
  return ExitCode.ok;
}
