import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

export async function run(name: string, options: ServerFlags): Promise<number> {
  await serverClient(options).request('DELETE', `sys/policies/acl/${encodeURIComponent(name)}`);
  print(`Success! Deleted policy: ${name}`);
  return ExitCode.ok;
}
