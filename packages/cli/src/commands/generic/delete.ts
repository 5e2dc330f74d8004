import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { apiPath } from '../../vault/data-args.js';

export async function run(path: string, options: ServerFlags): Promise<number> {
  const target = apiPath(path);
  await serverClient(options).request('DELETE', target);
  print(`Success! Data deleted (if it existed) at: ${target}`);
  return ExitCode.ok;
}
