import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { kvPath } from './pairs.js';

interface Options extends ServerFlags {
  mount: string;
}

export async function run(path: string, options: Options): Promise<number> {
  await serverClient(options).request('DELETE', kvPath(options.mount, 'metadata', path));
  print(`${options.mount}/${path}: deleted with every version`);
  return ExitCode.ok;
}
