import { createHmac } from 'node:crypto';

/**
 * The documented, fixed key of finding fingerprints. A fingerprint is
 * `HMAC-SHA256(key, secret)` in hex, first 32 characters: stable across files, lines and
 * machines (so baselines and allowlists survive moved code), and never the secret itself. Being
 * keyed with a public key it does not stop guessing of a weak password from its fingerprint:
 * pass your own `fingerprintKey` for that.
 */
export const DEFAULT_FINGERPRINT_KEY = 'custos/scan/fingerprint/v1';

/**
 * The fingerprint of a secret.
 *
 * @example
 * ```ts
 * fingerprintSecret('hunter2hunter2').length; // 32
 * ```
 */
export function fingerprintSecret(
  secret: string,
  key: string | Uint8Array = DEFAULT_FINGERPRINT_KEY,
): string {
  return createHmac('sha256', key).update(secret, 'utf8').digest('hex').slice(0, 32);
}
