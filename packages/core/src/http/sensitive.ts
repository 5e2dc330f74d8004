import type { ServerResponse } from 'node:http';
import { CustosError } from '../errors/index.js';
import { nonceOf } from './apply-headers.js';

/** A `node:http` response, an Express `res`, or a Fastify `reply`. */
export type ResponseLike =
  | Pick<ServerResponse, 'setHeader'>
  | { readonly raw: object; header(name: string, value: string): unknown };

function isReply(res: ResponseLike): res is Extract<ResponseLike, { raw: object }> {
  return (
    typeof res === 'object' && res !== null && 'raw' in res && typeof res.header === 'function'
  );
}

/**
 * Marks a response as carrying something sensitive (a secret, a token, personal data):
 * `Cache-Control: no-store`, so neither the browser nor a proxy keeps a copy.
 *
 * @example
 * ```ts
 * app.get('/api-key', (req, res) => { markSensitive(res); res.json({ key }); });
 * ```
 */
export function markSensitive(res: ResponseLike): void {
  if (isReply(res)) {
    res.header('cache-control', 'no-store');
    return;
  }
  if (typeof res !== 'object' || res === null || typeof res.setHeader !== 'function') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'res must be a node:http ServerResponse, an Express res or a Fastify reply',
    );
  }
  res.setHeader('cache-control', 'no-store');
}

/**
 * The CSP nonce of a response (for `<script nonce="…">`), or `undefined` when nonces are off
 * or the security headers did not run for it.
 *
 * @example
 * ```ts
 * res.send(`<script nonce="${cspNonce(res)}">start()</script>`);
 * ```
 */
export function cspNonce(res: ResponseLike): string | undefined {
  if (typeof res !== 'object' || res === null) return undefined;
  return nonceOf(isReply(res) ? res.raw : res);
}
