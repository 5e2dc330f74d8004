import { ExitCode } from '../../exit-codes.js';
import { api, serverTarget } from '../../http-client.js';
import { print } from '../../output.js';
import { kvPath, parsePairs } from './pairs.js';

interface Options {
  mount: string;
  cas?: number;
}

export async function run(path: string, pairs: string[], options: Options): Promise<number> {
  const data = await parsePairs(pairs);
  const { body } = await api(serverTarget(), 'POST', kvPath(options.mount, 'data', path), {
    data,
    ...(options.cas === undefined ? {} : { options: { cas: options.cas } }),
  });
  const meta = (body as { data: { version: number; created_time: string } }).data;
  print(`${options.mount}/${path}: version ${meta.version} written at ${meta.created_time}`);
  return ExitCode.ok;
}
