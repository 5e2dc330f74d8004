import { CustosError } from '../errors/index.js';

/** A webhook body as sent: the exact bytes, or text taken as its UTF-8 bytes. */
export type WebhookBody = string | Uint8Array;

/** The body's bytes; refuses a parsed body, whose bytes are lost (JSON is not canonical). */
export function bodyBytes(body: WebhookBody): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.length);
  throw new CustosError(
    'ERR_INVALID_ARGUMENT',
    'body must be the raw request body (a Buffer, Uint8Array or string), not a parsed object',
  );
}
