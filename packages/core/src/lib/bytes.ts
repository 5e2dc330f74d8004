import { CustosError } from '../errors/index.js';

/** Bytes in any of the forms custos accepts: a string is taken as UTF-8. */
export type BytesLike = Uint8Array | string;

/** Returns `input` as a Buffer without copying when it already holds bytes. */
export function toBuffer(input: BytesLike): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.length);
  throw new CustosError('ERR_INVALID_ARGUMENT', 'expected a string or Uint8Array');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes standard base64 strictly. `Buffer.from(s, 'base64')` silently skips junk and stops
 * at truncation; custos refuses both so a damaged key file is reported, not half-loaded.
 */
export function decodeBase64Strict(text: string, what: string): Buffer {
  if (!BASE64.test(text)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} is not valid base64`);
  }
  return Buffer.from(text, 'base64');
}

/** Decodes unpadded base64url strictly (see {@link decodeBase64Strict}). */
export function decodeBase64UrlStrict(text: string, what: string): Buffer {
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} is not valid base64url`);
  }
  return Buffer.from(text, 'base64url');
}
