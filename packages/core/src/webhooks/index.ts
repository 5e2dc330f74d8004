/**
 * Signed webhooks: HMAC-SHA256 over `<unix seconds>.<id>.<raw body>` in one header
 * (`custos-webhook-signature: t=…,id=…,v1=<hex>[,v1=…]`), a timestamp tolerance, an optional
 * replay store (memory, Redis), constant-time comparison, and rotation without dropped
 * deliveries: signers sign with every secret within its window, verifiers accept a previous
 * secret until its `notAfter`. Express/`node:http` middleware and a Fastify plugin read the raw
 * body and answer 401 without detail. Guide: `docs/webhooks.md`.
 *
 * @example
 * ```ts
 * import { createWebhookSigner, createWebhookVerifier } from '@custos/core/webhooks';
 * const signer = createWebhookSigner({ secrets: process.env.WEBHOOK_SECRET ?? '' });
 * const verifier = createWebhookVerifier({ secrets: process.env.WEBHOOK_SECRET ?? '' });
 * const signed = signer.sign({ body: '{"ok":true}' });
 * await verifier.verify({ header: signed.header, body: '{"ok":true}' });
 * ```
 * @module
 */
export type { WebhookBody } from './body.js';
export { WebhookRejected, type WebhookRejectionCode } from './errors.js';
export {
  type FastifyWebhookReplyLike,
  type FastifyWebhookRequestLike,
  type FastifyWebhookScopeLike,
  type FastifyWebhooksOptions,
  type FastifyWebhooksPlugin,
  fastifyWebhooks,
} from './fastify-plugin.js';
export { WEBHOOK_ID_PATTERN, WEBHOOK_SIGNATURE_HEADER } from './header.js';
export { type LoadWebhookSecretsOptions, loadWebhookSecrets } from './load-secrets.js';
export {
  type WebhookIncomingMessage,
  type WebhookMiddleware,
  type WebhookMiddlewareOptions,
  webhookMiddleware,
} from './node-middleware.js';
export {
  createMemoryWebhookReplayStore,
  createRedisWebhookReplayStore,
  type RedisWebhookReplayStoreOptions,
  type WebhookRedisLike,
  type WebhookReplayStore,
} from './replay.js';
export type { WebhookSecretEntry, WebhookSecrets, WebhookSecretValue } from './secrets.js';
export {
  createWebhookSigner,
  type SignedWebhook,
  type SignWebhookInput,
  type WebhookSigner,
  type WebhookSignerOptions,
} from './sign.js';
export { verifiedWebhook } from './verified.js';
export {
  createWebhookVerifier,
  type VerifiedWebhook,
  type VerifyWebhookInput,
  type WebhookVerifier,
  type WebhookVerifierOptions,
} from './verify.js';
