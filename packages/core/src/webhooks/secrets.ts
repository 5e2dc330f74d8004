import { CustosError } from '../errors/index.js';
import { checkHmacSecret, checkHmacSecretBytes } from '../lib/hmac-secret-strength.js';
import { isSecret, type Secret } from '../redaction/secret.js';

/** A webhook signing secret: text (taken as its UTF-8 bytes) or bytes, bare or wrapped. */
export type WebhookSecretValue = string | Uint8Array | Secret<string> | Secret<Uint8Array>;

/**
 * A secret with its grace window: accepted (and used to sign) until `notAfter`, never from
 * then on. Without `notAfter` it is accepted until you remove it.
 */
export interface WebhookSecretEntry {
  readonly secret: WebhookSecretValue;
  /** End of the grace window: a `Date`, or ISO 8601 text with a time zone. */
  readonly notAfter?: Date | string;
  /** How error messages name this secret (default `secret #<position>`); never its value. */
  readonly name?: string;
}

/**
 * The secrets of a signer or verifier: one secret, or several, the current one first (for
 * example `[current, { secret: previous, notAfter }]` during a rotation).
 */
export type WebhookSecrets =
  | WebhookSecretValue
  | readonly (WebhookSecretValue | WebhookSecretEntry)[];

/** @internal A checked secret. */
export interface ResolvedWebhookSecret {
  readonly key: Buffer;
  /** Milliseconds since the epoch, or `Infinity`. */
  readonly notAfter: number;
  readonly name: string;
}

/** More would only slow every verification down; a rotation needs two, an overlap three. */
const MAX_SECRETS = 8;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks the secrets once, up front: 1 to 8 of them, each at least 32 bytes and not a
 * placeholder, all different, grace ends valid dates. Messages name secrets, never values.
 */
export function resolveWebhookSecrets(secrets: WebhookSecrets): readonly ResolvedWebhookSecret[] {
  const list = Array.isArray(secrets) ? secrets : [secrets];
  if (list.length === 0 || list.length > MAX_SECRETS) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `secrets must hold 1 to ${MAX_SECRETS} webhook secrets`,
    );
  }
  const resolved = list.map((item, i) => resolveOne(item, `secret #${i + 1}`));
  for (const [i, { key, name }] of resolved.entries()) {
    const twin = resolved.slice(0, i).find((other) => other.key.equals(key));
    if (twin !== undefined) {
      throw new CustosError('ERR_WEAK_SECRET', `${name} must differ from ${twin.name}`);
    }
  }
  return resolved;
}

function resolveOne(
  item: WebhookSecretValue | WebhookSecretEntry,
  fallbackName: string,
): ResolvedWebhookSecret {
  const entry: WebhookSecretEntry = isEntry(item) ? item : { secret: item };
  const name = entry.name ?? fallbackName;
  const value = isSecret(entry.secret) ? entry.secret.reveal() : entry.secret;
  let key: Buffer;
  if (typeof value === 'string') {
    checkHmacSecret(name, value);
    key = Buffer.from(value, 'utf8');
  } else if (value instanceof Uint8Array) {
    checkHmacSecretBytes(name, value);
    key = Buffer.from(value);
  } else {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${name} must be a string or a Uint8Array`);
  }
  return { key, name, notAfter: parseNotAfter(entry.notAfter, name) };
}

function isEntry(item: unknown): item is WebhookSecretEntry {
  return (
    typeof item === 'object' &&
    item !== null &&
    !(item instanceof Uint8Array) &&
    !isSecret(item) &&
    'secret' in item
  );
}

/** A grace end as milliseconds since the epoch (`Infinity` when there is none). */
export function parseNotAfter(value: Date | string | undefined, name: string): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  const time =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'string' && ISO_8601.test(value)
        ? Date.parse(value)
        : Number.NaN;
  if (Number.isNaN(time)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `the notAfter of ${name} must be a valid Date or ISO 8601 time with a time zone`,
    );
  }
  return time;
}
