import { isServerError } from '../errors.js';

/**
 * Whether an error is an integrity failure (a tamper signal), and where: a ciphertext that
 * did not authenticate (`transit`) or a stored entry that failed the barrier's check
 * (`storage`); undefined for any other error.
 *
 * @example
 * ```ts
 * integritySourceOf(new DecryptionFailed()); // 'transit'
 * ```
 */
export function integritySourceOf(error: unknown): 'transit' | 'storage' | undefined {
  if (isServerError(error, 'ERR_DECRYPTION_FAILED')) return 'transit';
  if (isServerError(error, 'ERR_STORAGE_INTEGRITY')) return 'storage';
  return undefined;
}
