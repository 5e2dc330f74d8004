import { CustosError } from '@custos/core/errors';
import { print } from '../output.js';
import { type ServerFlags, serverClient } from '../server-client.js';
import type { OutputFlags } from './format.js';
import { printResponse, type VaultResponse } from './response.js';

/**
 * Sends `data` to `path` (POST, or PATCH as a JSON merge patch) and prints the answer as
 * `vault write` does: the response's table, or `Success! Data written to: <path>` when it has
 * no data.
 *
 * @example
 * ```ts
 * await sendData('POST', 'auth/approle/role/app', { token_policies: 'app' }, {});
 * ```
 */
export async function sendData(
  method: 'POST' | 'PATCH',
  path: string,
  data: Record<string, unknown>,
  options: ServerFlags & OutputFlags,
): Promise<void> {
  const { body } = await serverClient(options).request(method, path, {
    body: data,
    ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}),
  });
  const response = body as VaultResponse | null;
  if (response === null || ((response.data ?? null) === null && (response.auth ?? null) === null)) {
    if (options.field !== undefined) {
      throw new CustosError(
        'ERR_NOT_FOUND',
        `field "${options.field}" not present: ${path} returned no data`,
      );
    }
    print(`Success! Data written to: ${path}`);
    return;
  }
  printResponse(response, options, path);
}
