import { isIPv4 } from 'node:net';
import { CustosError } from '../errors/index.js';

/** The address used when neither the options nor the environment name one (`vault server -dev`). */
export const DEFAULT_SERVER_ADDRESS = 'http://127.0.0.1:8200';

/**
 * Whether a URL host is this machine's loopback interface, by its literal form only (no name
 * is resolved): `localhost`, any of 127.0.0.0/8, `[::1]`. `0.0.0.0`, `localhost.` or a name
 * that happens to resolve to 127.0.0.1 do not count — plain http to them needs the opt-in.
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return isIPv4(hostname) && hostname.startsWith('127.');
}

/**
 * The address from `explicit`, else `CUSTOS_ADDR`, else `VAULT_ADDR` (an empty variable counts
 * as unset), else {@link DEFAULT_SERVER_ADDRESS}.
 */
export function serverAddressFrom(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  const candidates = [explicit, env.CUSTOS_ADDR, env.VAULT_ADDR];
  return (
    candidates.find((value) => value !== undefined && value.trim() !== '')?.trim() ??
    DEFAULT_SERVER_ADDRESS
  );
}

/**
 * Checks a server address before anything is sent to it, so the token never leaves on a
 * connection the user did not mean to allow:
 * - `https://` anywhere; `http://` only to a loopback host (see {@link isLoopbackHost}), or
 *   anywhere with `allowInsecureHttp` (`ERR_INSECURE_TRANSPORT` otherwise);
 * - no user name or password, query or fragment in it, no other scheme (`ERR_INVALID_ARGUMENT`).
 *
 * Returns the origin and path prefix without a trailing slash (requests go to `${base}/v1/…`);
 * messages show the address without anything that could be a credential.
 */
export function checkServerAddress(address: string, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'the server address is not a URL (expected https://host:port; set CUSTOS_ADDR)',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `the server address must start with https:// (got ${url.protocol}//…)`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    // Said without the address: its user-info is the credential.
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `the server address ${url.protocol}//${url.host} must not contain a user name or password: pass the token as the token (CUSTOS_TOKEN)`,
    );
  }
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  if (url.search !== '' || url.hash !== '') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `the server address ${base} must not have a query or fragment`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecureHttp) {
    throw new CustosError(
      'ERR_INSECURE_TRANSPORT',
      `refusing plain http to ${base}: the token and every secret would cross the network unencrypted. Use https, or allow plain http explicitly (--allow-insecure-http, CUSTOS_ALLOW_INSECURE_HTTP=1, allowInsecureHttp: true) on a network you trust`,
    );
  }
  return base;
}
