import { CustosError } from '../errors/index.js';
import type { VerifiedWebhook } from './verify.js';

const verified = new WeakMap<object, VerifiedWebhook>();

/** @internal Records what the middleware or plugin verified for `request`. */
export function recordVerifiedWebhook(request: object, webhook: VerifiedWebhook): void {
  verified.set(request, webhook);
}

/**
 * The delivery the webhook middleware (Express, `node:http`) or Fastify plugin verified for
 * this request: its id, signed time and body bytes. Throws when none was verified, so a route
 * mounted without the check fails instead of trusting an unverified body.
 *
 * @example
 * ```ts
 * app.post('/webhooks', webhookMiddleware(verifier), (req, res) => {
 *   const { id, body } = verifiedWebhook(req);
 *   res.status(204).end();
 * });
 * ```
 */
export function verifiedWebhook(request: object): VerifiedWebhook {
  const webhook = verified.get(request);
  if (webhook === undefined) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'no webhook was verified for this request: put webhookMiddleware or fastifyWebhooks before the handler',
    );
  }
  return webhook;
}
