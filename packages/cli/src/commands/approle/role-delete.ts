import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { rolePath } from './role-path.js';

interface Options extends ServerFlags {
  mount: string;
}

export async function run(name: string, options: Options): Promise<number> {
  const path = rolePath(options.mount, name);
  await serverClient(options).request('DELETE', path);
  print(`Success! Data deleted (if it existed) at: ${path}`);
  return ExitCode.ok;
}
