import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

export async function run(options: ServerFlags): Promise<number> {
  await serverClient(options).request('POST', 'sys/seal');
  print('sealed');
  return ExitCode.ok;
}
