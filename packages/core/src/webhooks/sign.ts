import { randomBytes } from 'node:crypto';
import { CustosError } from '../errors/index.js';
import { bodyBytes, type WebhookBody } from './body.js';
import {
  formatSignatureHeader,
  signaturePayloadHmac,
  WEBHOOK_ID_PATTERN,
  WEBHOOK_SIGNATURE_HEADER,
} from './header.js';
import { resolveWebhookSecrets, type WebhookSecrets } from './secrets.js';

/** Options for {@link createWebhookSigner}. */
export interface WebhookSignerOptions {
  /**
   * The signing secrets. Each one within its window signs every delivery, so during a rotation
   * (`[next, { secret: current, notAfter }]`) receivers holding either secret verify it.
   */
  readonly secrets: WebhookSecrets;
}

/** What to sign. */
export interface SignWebhookInput {
  /** The exact bytes you will send (a string is sent as UTF-8). */
  readonly body: WebhookBody;
  /**
   * Delivery id, signed with the body: give your event id so a receiver can deduplicate
   * retries; default: a random one. 1–128 characters of `[A-Za-z0-9_-]`.
   */
  readonly id?: string;
  /** Signing time (default: now). Sign again at every attempt: a retry gets a new timestamp. */
  readonly now?: Date;
}

/** A signed delivery: send `headers` with the body. */
export interface SignedWebhook {
  readonly id: string;
  /** The signed time, whole seconds. */
  readonly timestamp: Date;
  /** The value of the `custos-webhook-signature` header. */
  readonly header: string;
  /** `{ 'custos-webhook-signature': header }`, to spread into a request's headers. */
  readonly headers: Readonly<Record<typeof WEBHOOK_SIGNATURE_HEADER, string>>;
}

/** Signs webhook deliveries. */
export interface WebhookSigner {
  /** Signs one delivery with every secret within its window. */
  sign(input: SignWebhookInput): SignedWebhook;
}

/**
 * A webhook signer: HMAC-SHA256 over `<unix seconds>.<id>.<raw body>`, sent as
 * `custos-webhook-signature: t=<unix seconds>,id=<id>,v1=<hex>[,v1=<hex>…]`, one `v1` per
 * secret within its window. The secrets are checked here, once (32+ bytes, not a placeholder,
 * all different): a weak one fails at start-up, not at the first delivery.
 *
 * @example
 * ```ts
 * const signer = createWebhookSigner({ secrets: process.env.WEBHOOK_SECRET ?? '' });
 * const body = JSON.stringify({ type: 'invoice.paid', invoiceId: 'in_1' });
 * const { headers } = signer.sign({ body, id: 'evt_1' });
 * await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
 * ```
 */
export function createWebhookSigner(options: WebhookSignerOptions): WebhookSigner {
  const secrets = resolveWebhookSecrets(options?.secrets);
  return {
    sign(input) {
      const body = bodyBytes(input?.body);
      const id = input.id ?? `wh_${randomBytes(16).toString('base64url')}`;
      if (typeof id !== 'string' || !WEBHOOK_ID_PATTERN.test(id)) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          'id must be 1-128 characters of [A-Za-z0-9_-]',
        );
      }
      const now = input.now ?? new Date();
      const nowMs = now instanceof Date ? now.getTime() : Number.NaN;
      if (!Number.isFinite(nowMs) || nowMs < 0) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'now must be a valid Date after 1970');
      }
      const live = secrets.filter((s) => nowMs < s.notAfter);
      if (live.length === 0) {
        throw new CustosError(
          'ERR_WEBHOOK_SECRET_RETIRED',
          'every signing secret is past its notAfter: add the current webhook secret',
        );
      }
      const timestamp = Math.floor(nowMs / 1000);
      const header = formatSignatureHeader({
        timestamp,
        id,
        signatures: live.map((s) => signaturePayloadHmac(s.key, timestamp, id, body)),
      });
      return {
        id,
        timestamp: new Date(timestamp * 1000),
        header,
        headers: { [WEBHOOK_SIGNATURE_HEADER]: header },
      };
    },
  };
}
