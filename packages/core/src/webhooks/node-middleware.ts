import type { IncomingMessage, ServerResponse } from 'node:http';
import { CustosError } from '../errors/index.js';
import { WebhookRejected } from './errors.js';
import { WEBHOOK_SIGNATURE_HEADER } from './header.js';
import { recordVerifiedWebhook } from './verified.js';
import type { WebhookVerifier } from './verify.js';

/** Options for {@link webhookMiddleware}. */
export interface WebhookMiddlewareOptions {
  /** Largest body read, in bytes (default 1 MiB); a larger one is answered 413. */
  readonly limitBytes?: number;
  /** Told of every refusal (to log it: the message holds no secret); the sender learns nothing. */
  readonly onRejected?: (error: WebhookRejected) => void;
}

/** A request as Express or `node:http` gives it; `body` is set by a body parser, if one ran. */
export type WebhookIncomingMessage = IncomingMessage & { body?: unknown };

/** An Express/Connect middleware (also usable with plain `node:http`, `next` as the handler). */
export type WebhookMiddleware = (
  req: WebhookIncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

const DEFAULT_LIMIT_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

/**
 * Express/Connect middleware that reads the raw body, verifies it with `verifier`, and then
 * sets `req.body` to the verified bytes (a `Buffer`) and calls `next()`; read the delivery with
 * {@link verifiedWebhook}. A refused delivery is answered 401 `{"error":"webhook rejected"}`,
 * with no reason. Mount it on the webhook route before any body parser; `express.raw()` before
 * it also works (its `Buffer` is used). A body already parsed into an object fails the request
 * (500): its bytes are gone.
 *
 * @example
 * ```ts
 * app.post('/webhooks/billing', webhookMiddleware(verifier), (req, res) => {
 *   const event = JSON.parse(verifiedWebhook(req).body.toString('utf8'));
 *   res.status(204).end();
 * });
 * ```
 */
export function webhookMiddleware(
  verifier: WebhookVerifier,
  options: WebhookMiddlewareOptions = {},
): WebhookMiddleware {
  if (typeof verifier?.verify !== 'function') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'verifier must come from createWebhookVerifier');
  }
  const limit = options.limitBytes ?? DEFAULT_LIMIT_BYTES;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'limitBytes must be a whole number ≥ 0');
  }
  return (req, res, next) => {
    rawBody(req, limit)
      .then((body) => verifier.verify({ header: req.headers[WEBHOOK_SIGNATURE_HEADER], body }))
      .then(
        (webhook) => {
          recordVerifiedWebhook(req, webhook);
          req.body = webhook.body;
          next();
        },
        (error: unknown) => {
          if (error instanceof WebhookRejected) {
            answer(res, 401, 'webhook rejected');
            // After the answer: a throwing hook cannot turn the 401 into something else.
            options.onRejected?.(error);
          } else if (error instanceof BodyTooLarge) {
            res.setHeader('connection', 'close');
            answer(res, 413, 'webhook body too large');
          } else {
            next(error);
          }
        },
      )
      .catch(next);
  };
}

function answer(res: ServerResponse, status: number, error: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify({ error }));
}

/** The body bytes: from `express.raw()`, else read from the stream, within `limit`. */
async function rawBody(req: WebhookIncomingMessage, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) {
    if (req.body.length > limit) throw new BodyTooLarge();
    return req.body;
  }
  if (req.readableEnded) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'the webhook body was already read by another parser: mount webhookMiddleware before it, or use express.raw()',
    );
  }
  if (Number(req.headers['content-length']) > limit) throw new BodyTooLarge();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (settle: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      settle();
    };
    // Stops reading at the limit without destroying the socket, so the 413 can still be sent.
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        done(() => reject(new BodyTooLarge()));
      } else chunks.push(chunk);
    };
    const onEnd = () => done(() => resolve(Buffer.concat(chunks, size)));
    const onError = (error: Error) => done(() => reject(error));
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
