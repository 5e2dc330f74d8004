import { CustosError } from '../errors/index.js';
import { toBuffer } from '../lib/bytes.js';

/** A webhook body as sent: the exact bytes, or text taken as its UTF-8 bytes. */
export type WebhookBody = string | Uint8Array;

/** The body's bytes; refuses a parsed body, whose bytes are lost (JSON is not canonical). */
export function bodyBytes(body: WebhookBody): Buffer {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'body must be the raw request body (a Buffer, Uint8Array or string), not a parsed object',
    );
  }
  return toBuffer(body);
}
