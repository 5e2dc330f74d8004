import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { kvPath, parsePairs } from './pairs.js';

interface Options extends ServerFlags {
  mount: string;
  cas?: number;
}

export async function run(path: string, pairs: string[], options: Options): Promise<number> {
  const data = await parsePairs(pairs);
  const { body } = await serverClient(options).request(
    'PATCH',
    kvPath(options.mount, 'data', path),
    {
      body: { data, ...(options.cas === undefined ? {} : { options: { cas: options.cas } }) },
      headers: { 'content-type': 'application/merge-patch+json' },
    },
  );
  print(
    `${options.mount}/${path}: version ${(body as { data: { version: number } }).data.version} written`,
  );
  return ExitCode.ok;
}
