import { timingSafeEqual } from 'node:crypto';
import { CustosError } from '../errors/index.js';
import { bodyBytes, type WebhookBody } from './body.js';
import { WebhookRejected } from './errors.js';
import {
  type ParsedSignatureHeader,
  parseSignatureHeader,
  signaturePayloadHmac,
} from './header.js';
import type { WebhookReplayStore } from './replay.js';
import {
  type ResolvedWebhookSecret,
  resolveWebhookSecrets,
  type WebhookSecrets,
} from './secrets.js';

/** Options for {@link createWebhookVerifier}. */
export interface WebhookVerifierOptions {
  /**
   * The accepted secrets: the current one, and during a rotation the previous one with the end
   * of its grace window (`[current, { secret: previous, notAfter }]`).
   */
  readonly secrets: WebhookSecrets;
  /** How far the signed time may lie from now, either way (default 300 s, at most 1 day). */
  readonly toleranceSeconds?: number;
  /**
   * Remembers accepted deliveries so the same signed request is refused within the tolerance
   * (`ERR_WEBHOOK_REPLAYED`). Without one, only the timestamp window limits a replay.
   */
  readonly replay?: WebhookReplayStore;
}

/** What to verify. */
export interface VerifyWebhookInput {
  /** The `custos-webhook-signature` header, as `req.headers` gives it. */
  readonly header: string | readonly string[] | undefined;
  /** The raw body bytes as received (never re-serialised JSON). */
  readonly body: WebhookBody;
  /** Verification time (default: now). */
  readonly now?: Date;
}

/** An authentic delivery. */
export interface VerifiedWebhook {
  /** The signed delivery id: deduplicate retries by it. */
  readonly id: string;
  /** The signed time, whole seconds. */
  readonly timestamp: Date;
  /** The verified body bytes. */
  readonly body: Buffer;
}

/** Verifies webhook deliveries. */
export interface WebhookVerifier {
  /**
   * Resolves with the delivery when a signature verifies under an accepted secret, the
   * timestamp is within the tolerance and (with a replay store) it was not accepted before;
   * else rejects with {@link WebhookRejected}.
   */
  verify(input: VerifyWebhookInput): Promise<VerifiedWebhook>;
}

const DEFAULT_TOLERANCE_SECONDS = 300;
const MAX_TOLERANCE_SECONDS = 86_400;

/**
 * A webhook verifier for the custos scheme (see {@link createWebhookSigner}). Checks, in this
 * order: the header's form; the signatures, in constant time, against every secret (a previous
 * secret only before its `notAfter`, judged by the verifier's clock, never by the signed time);
 * the timestamp within `toleranceSeconds`; then the replay store. Secrets are checked here,
 * once.
 *
 * @example
 * ```ts
 * const verifier = createWebhookVerifier({
 *   secrets: [process.env.WEBHOOK_SECRET ?? '', { secret: process.env.WEBHOOK_SECRET_PREVIOUS ?? '', notAfter: '2026-12-06T09:00:00Z' }],
 * });
 * const { id, body } = await verifier.verify({ header: req.headers['custos-webhook-signature'], body: rawBody });
 * ```
 */
export function createWebhookVerifier(options: WebhookVerifierOptions): WebhookVerifier {
  const secrets = resolveWebhookSecrets(options?.secrets);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isSafeInteger(tolerance) || tolerance < 1 || tolerance > MAX_TOLERANCE_SECONDS) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `toleranceSeconds must be a whole number from 1 to ${MAX_TOLERANCE_SECONDS}`,
    );
  }
  const replay = options.replay;
  if (replay !== undefined && typeof replay?.claim !== 'function') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'replay must be a WebhookReplayStore');
  }
  return {
    async verify(input) {
      const body = bodyBytes(input?.body);
      const now = input.now ?? new Date();
      const nowMs = now instanceof Date ? now.getTime() : Number.NaN;
      if (!Number.isFinite(nowMs)) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'now must be a valid Date');
      }
      const parsed = parseSignatureHeader(input.header);
      const { timestamp, id } = parsed;
      checkSignatures(secrets, nowMs, parsed, body);
      const ageSeconds = nowMs / 1000 - timestamp;
      if (ageSeconds > tolerance) {
        throw new WebhookRejected(
          'ERR_WEBHOOK_TIMESTAMP',
          `the webhook was signed more than ${tolerance} s ago`,
        );
      }
      if (-ageSeconds > tolerance) {
        throw new WebhookRejected(
          'ERR_WEBHOOK_TIMESTAMP',
          `the webhook is signed more than ${tolerance} s in the future: check the clocks`,
        );
      }
      // Only an authentic, timely delivery is claimed: a forger cannot burn a real delivery's
      // key. The key is the signed request (id and time), so a retry, signed anew, passes.
      if (replay !== undefined) {
        const ttlSeconds = Math.max(1, Math.ceil(timestamp + tolerance - nowMs / 1000) + 1);
        if (!(await replay.claim(`${id}.${timestamp}`, ttlSeconds))) {
          throw new WebhookRejected(
            'ERR_WEBHOOK_REPLAYED',
            `the webhook delivery ${id} signed at ${timestamp} was already accepted`,
          );
        }
      }
      return { id, timestamp: new Date(timestamp * 1000), body };
    },
  };
}

/**
 * Compares every signature with every secret's HMAC (32 bytes each, so `timingSafeEqual` sees
 * equal lengths), without stopping at the first match.
 */
function checkSignatures(
  secrets: readonly ResolvedWebhookSecret[],
  nowMs: number,
  { timestamp, id, signatures }: ParsedSignatureHeader,
  body: Buffer,
): void {
  let live = false;
  let retired: ResolvedWebhookSecret | undefined;
  for (const secret of secrets) {
    const expected = signaturePayloadHmac(secret.key, timestamp, id, body);
    let match = false;
    for (const signature of signatures) {
      match = timingSafeEqual(expected, signature) || match;
    }
    if (!match) continue;
    if (nowMs < secret.notAfter) live = true;
    else retired ??= secret;
  }
  if (live) return;
  if (retired !== undefined) {
    throw new WebhookRejected(
      'ERR_WEBHOOK_SECRET_RETIRED',
      `the webhook verifies only under ${retired.name}, whose grace window ended at ${new Date(retired.notAfter).toISOString()}`,
    );
  }
  throw new WebhookRejected(
    'ERR_WEBHOOK_SIGNATURE',
    'no signature of the webhook matches its body and timestamp under an accepted secret',
  );
}
