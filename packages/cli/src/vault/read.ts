import { ExitCode } from '../exit-codes.js';
import { warn } from '../output.js';
import { type ServerFlags, serverClient } from '../server-client.js';
import type { OutputFlags } from './format.js';
import { printResponse, type VaultResponse } from './response.js';

/**
 * Reads `path` and prints it as `vault read` does. A 404 that still carries data (a deleted KV
 * version: its metadata) is printed; a 404 without is `No value found at <path>` and exit 2.
 *
 * @example
 * ```ts
 * process.exitCode = await readAndPrint('auth/approle/role/app/role-id', { field: 'role_id' });
 * ```
 */
export async function readAndPrint(
  path: string,
  options: ServerFlags & OutputFlags,
): Promise<number> {
  const { status, body } = await serverClient(options).request('GET', path, {
    allowStatus: [404],
  });
  const response = body as VaultResponse | null;
  if (response === null || (status === 404 && (response.data ?? null) === null)) {
    warn(`No value found at ${path.replace(/\?.*$/, '')}`);
    return ExitCode.error;
  }
  printResponse(response, options, path);
  return ExitCode.ok;
}
