import { ExitCode } from '../../exit-codes.js';
import { warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { printResponse, type VaultResponse } from '../../vault/response.js';

/** Reads `path` and prints it as `vault read` does ("No value found at …", exit 2, if absent). */
export async function readPath(path: string, options: ServerFlags & OutputFlags): Promise<number> {
  const { status, body } = await serverClient(options).request('GET', path, { allowStatus: [404] });
  if (status === 404 || body === null) {
    warn(`No value found at ${path}`);
    return ExitCode.error;
  }
  printResponse(body as VaultResponse, options, path);
  return ExitCode.ok;
}
