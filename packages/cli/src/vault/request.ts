import type { ServerClient } from '@custos/core/client';
import { CustosError } from '@custos/core/errors';

/**
 * Sends a request an older server may not serve (enabling or tuning mounts: custos servers
 * before mounts were configurable had fixed ones) and turns "no such route" (404, 405) into an
 * error that says so, never a success.
 *
 * @example
 * ```ts
 * await requestSupported(client, 'POST', 'sys/auth/approle', { type: 'approle' }, 'enabling auth methods');
 * ```
 */
export async function requestSupported(
  client: ServerClient,
  method: string,
  path: string,
  body: unknown,
  what: string,
): Promise<void> {
  const response = await client.request(method, path, {
    ...(body === undefined ? {} : { body }),
    allowStatus: [404, 405],
  });
  if (response.status === 404 || response.status === 405) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `the server at ${client.address} does not support ${what} (${method} ${path}: HTTP ${response.status}); its mounts may be fixed: see \`custos secrets list\` and \`custos auth list\``,
    );
  }
}
