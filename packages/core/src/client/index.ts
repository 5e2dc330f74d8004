/**
 * The HTTP client of the custos server (and HashiCorp Vault, OpenBao), the one the CLI, the
 * `vaultKv` secrets provider and the transit client share: it never follows a redirect, sends
 * plain http only to loopback unless told otherwise, bounds every request with a timeout,
 * reports an unreachable server as `ERR_SERVER_UNREACHABLE`, and keeps the token and request
 * values out of its errors. See `createServerClient`.
 *
 * @example
 * ```ts
 * import { createServerClient } from '@custos/core/client';
 * const client = createServerClient(); // CUSTOS_ADDR / CUSTOS_TOKEN, or VAULT_ADDR / VAULT_TOKEN
 * const { body } = await client.request('GET', 'sys/seal-status');
 * ```
 * @module
 */
export {
  type ApiRequestOptions,
  type ApiResponse,
  createServerClient,
  type ServerAuth,
  type ServerClient,
  type ServerConnectionOptions,
} from '../lib/server-client.js';
