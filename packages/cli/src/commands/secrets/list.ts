import { ExitCode } from '../../exit-codes.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { printMounts } from '../../vault/mounts.js';

type Options = ServerFlags & OutputFlags;

export async function run(options: Options): Promise<number> {
  const { body } = await serverClient(options).request('GET', 'sys/mounts');
  printMounts(body, options);
  return ExitCode.ok;
}
