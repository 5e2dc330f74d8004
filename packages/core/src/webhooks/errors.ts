import { CustosError } from '../errors/index.js';

/** Why a webhook delivery was refused; stable codes, see `docs/errors.md`. */
export type WebhookRejectionCode =
  | 'ERR_WEBHOOK_MALFORMED'
  | 'ERR_WEBHOOK_SIGNATURE'
  | 'ERR_WEBHOOK_SECRET_RETIRED'
  | 'ERR_WEBHOOK_TIMESTAMP'
  | 'ERR_WEBHOOK_REPLAYED';

/**
 * A webhook delivery was refused. `code` says why, so `switch (err.code)` narrows; an HTTP
 * layer answers 401 to every one of them and tells the sender nothing more. Messages never
 * contain a secret, a signature or the body.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verify({ header: req.headers['custos-webhook-signature'], body });
 * } catch (err) {
 *   if (err instanceof WebhookRejected) return res.status(401).end();
 *   throw err;
 * }
 * ```
 */
export class WebhookRejected extends CustosError {
  declare readonly code: WebhookRejectionCode;

  constructor(code: WebhookRejectionCode, message: string) {
    super(code, message);
  }
}
