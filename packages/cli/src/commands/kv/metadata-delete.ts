import { ExitCode } from '../../exit-codes.js';
import { api, serverTarget } from '../../http-client.js';
import { print } from '../../output.js';
import { kvPath } from './pairs.js';

interface Options {
  mount: string;
}

export async function run(path: string, options: Options): Promise<number> {
  await api(serverTarget(), 'DELETE', kvPath(options.mount, 'metadata', path));
  print(`${options.mount}/${path}: deleted with every version`);
  return ExitCode.ok;
}
