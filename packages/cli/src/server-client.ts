import { createServerClient, type ServerClient } from '@custos/core/client';
import { parseDurationSeconds } from '@custos/core/duration';
import { CustosError } from '@custos/core/errors';
import type { ServerFlags } from './server-flags.js';

export type { ServerFlags };

/** The CLI waits longer than the library's 5 s: a person is there to press Ctrl-C. */
const DEFAULT_TIMEOUT_SECONDS = 30;
/** Node's timers hold up to 2^31 - 1 ms. */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * How the CLI reaches the server: `CUSTOS_ADDR` / `CUSTOS_TOKEN` (or `VAULT_ADDR` /
 * `VAULT_TOKEN`), with `--allow-insecure-http` or `CUSTOS_ALLOW_INSECURE_HTTP=1` for plain
 * http beyond loopback, and `CUSTOS_CLIENT_TIMEOUT` (a duration, default 30s) per request.
 */
export function serverConnection(flags: ServerFlags = {}) {
  const timeout = process.env.CUSTOS_CLIENT_TIMEOUT;
  const seconds =
    timeout === undefined || timeout === ''
      ? DEFAULT_TIMEOUT_SECONDS
      : parseDurationSeconds(timeout, 'CUSTOS_CLIENT_TIMEOUT');
  if (seconds < 1 || seconds > MAX_TIMEOUT_SECONDS) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `CUSTOS_CLIENT_TIMEOUT must be from 1s to ${MAX_TIMEOUT_SECONDS}s`,
    );
  }
  return {
    timeoutMs: seconds * 1000,
    ...(flags.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
  };
}

/**
 * The server client of a command (see `@custos/core/client`: no redirects, https unless
 * loopback, typed errors that never hold the token).
 *
 * @example
 * ```ts
 * const { body } = await serverClient(options).request('GET', 'sys/seal-status');
 * ```
 */
export function serverClient(flags: ServerFlags = {}): ServerClient {
  return createServerClient(serverConnection(flags));
}
