import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import { type BytesLike, toBuffer } from '../lib/bytes.js';

/**
 * HMAC-SHA256 of `data` under `key`.
 *
 * @example
 * ```ts
 * const tag = hmacSha256(key, 'message'); // 32 bytes
 * ```
 */
export function hmacSha256(key: BytesLike | KeyObject, data: BytesLike): Buffer {
  const k = typeof key === 'string' || key instanceof Uint8Array ? toBuffer(key) : key;
  return createHmac('sha256', k).update(toBuffer(data)).digest();
}

/**
 * Compares two secrets in constant time: the time taken reveals at most whether the lengths
 * differ, never the contents or the position of the first difference.
 *
 * @example
 * ```ts
 * if (!constantTimeEqual(presentedToken, expectedToken)) throw new PermissionDenied();
 * ```
 */
export function constantTimeEqual(a: BytesLike, b: BytesLike): boolean {
  const x = toBuffer(a);
  const y = toBuffer(b);
  if (x.length !== y.length) {
    // Same work as a real comparison, so a length mismatch is no faster than a content one.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
