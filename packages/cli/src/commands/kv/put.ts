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
    'POST',
    kvPath(options.mount, 'data', path),
    {
      body: { data, ...(options.cas === undefined ? {} : { options: { cas: options.cas } }) },
    },
  );
  const meta = (body as { data: { version: number; created_time: string } }).data;
  print(`${options.mount}/${path}: version ${meta.version} written at ${meta.created_time}`);
  return ExitCode.ok;
}
