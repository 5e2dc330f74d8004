import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { printMounts } from '../../vault/mounts.js';

type Options = ServerFlags & OutputFlags;

export async function run(options: Options): Promise<number> {
  const client = serverClient(options);
  const { status, body } = await client.request('GET', 'sys/auth', { allowStatus: [404, 405] });
  if (status === 404 || status === 405) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `the server at ${client.address} does not list auth methods (GET sys/auth: HTTP ${status})`,
    );
  }
  printMounts(body, options);
  return ExitCode.ok;
}
