import { ExitCode } from '../../exit-codes.js';
import { api, serverTarget } from '../../http-client.js';
import { print } from '../../output.js';

export async function run(): Promise<number> {
  await api(serverTarget(), 'POST', 'sys/seal');
  print('sealed');
  return ExitCode.ok;
}
