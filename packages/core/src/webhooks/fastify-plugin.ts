import { CustosError } from '../errors/index.js';
import type { WebhookBody } from './body.js';
import { WebhookRejected } from './errors.js';
import { WEBHOOK_SIGNATURE_HEADER } from './header.js';
import { recordVerifiedWebhook } from './verified.js';
import type { WebhookVerifier } from './verify.js';

/** Options for {@link fastifyWebhooks}. */
export interface FastifyWebhooksOptions {
  /** Largest body read, in bytes (default: the Fastify instance's `bodyLimit`, 1 MiB). */
  readonly bodyLimit?: number;
  /** Told of every refusal (to log it: the message holds no secret); the sender learns nothing. */
  readonly onRejected?: (error: WebhookRejected) => void;
}

/** The part of a Fastify request the plugin reads. */
export interface FastifyWebhookRequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
}

/** The part of a Fastify reply the plugin uses. */
export interface FastifyWebhookReplyLike {
  code(statusCode: number): FastifyWebhookReplyLike;
  header(name: string, value: string): FastifyWebhookReplyLike;
  send(payload?: unknown): FastifyWebhookReplyLike;
}

/** The part of a Fastify instance the plugin uses (structural: core has no Fastify). */
export interface FastifyWebhookScopeLike {
  removeAllContentTypeParsers(): unknown;
  addContentTypeParser(
    contentType: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (
      request: FastifyWebhookRequestLike,
      body: Buffer,
      done: (error: Error | null, body?: unknown) => void,
    ) => void,
  ): unknown;
  addHook(
    name: 'preHandler',
    hook: (request: FastifyWebhookRequestLike, reply: FastifyWebhookReplyLike) => Promise<unknown>,
  ): unknown;
}

/** A Fastify plugin, applied to the scope it is registered in (not encapsulated). */
export type FastifyWebhooksPlugin = ((
  scope: FastifyWebhookScopeLike,
  options: unknown,
  done: (error?: Error) => void,
) => void) & { readonly [key: symbol]: unknown };

/**
 * A Fastify plugin that verifies every request of the scope it is registered in: it replaces
 * the scope's body parsers by one that keeps the raw bytes (`request.body` is a `Buffer`), and
 * a `preHandler` answers 401 `{"error":"webhook rejected"}` to a refused delivery, with no
 * reason. Register it inside a scope holding only the webhook routes (as below), never on the
 * root instance, where it would apply to every route. Read the delivery with
 * {@link verifiedWebhook}.
 *
 * @example
 * ```ts
 * await app.register(async (scope) => {
 *   await scope.register(fastifyWebhooks(verifier));
 *   scope.post('/webhooks/billing', async (request, reply) => {
 *     const { id, body } = verifiedWebhook(request);
 *     return reply.code(204).send();
 *   });
 * });
 * ```
 */
export function fastifyWebhooks(
  verifier: WebhookVerifier,
  options: FastifyWebhooksOptions = {},
): FastifyWebhooksPlugin {
  if (typeof verifier?.verify !== 'function') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'verifier must come from createWebhookVerifier');
  }
  const { bodyLimit, onRejected } = options;
  if (bodyLimit !== undefined && (!Number.isSafeInteger(bodyLimit) || bodyLimit < 0)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'bodyLimit must be a whole number ≥ 0');
  }
  const plugin = (
    scope: FastifyWebhookScopeLike,
    _options: unknown,
    done: (error?: Error) => void,
  ): void => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      bodyLimit === undefined ? { parseAs: 'buffer' } : { parseAs: 'buffer', bodyLimit },
      (_request, body, parsed) => parsed(null, body),
    );
    scope.addHook('preHandler', async (request, reply) => {
      // No body: no bytes. Anything but bytes (another parser ran) fails in verify: closed.
      const body = (request.body ?? Buffer.alloc(0)) as WebhookBody;
      try {
        const webhook = await verifier.verify({
          header: request.headers[WEBHOOK_SIGNATURE_HEADER],
          body,
        });
        recordVerifiedWebhook(request, webhook);
      } catch (error) {
        if (!(error instanceof WebhookRejected)) throw error;
        reply.code(401).header('cache-control', 'no-store').send({ error: 'webhook rejected' });
        // After the answer: a throwing hook cannot turn the 401 into something else.
        onRejected?.(error);
        return reply;
      }
    });
    done();
  };
  // What fastify-plugin sets: the hooks and parser apply to the scope that registers this.
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'custos-webhooks',
  });
}
