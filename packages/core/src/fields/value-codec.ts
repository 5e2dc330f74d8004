import { CustosError, MalformedCiphertext } from '../errors/index.js';
import type { FieldValue, PaddingOptions } from './types.js';

/**
 * The plaintext inside a field envelope: one tag byte naming the type, then the value's bytes,
 * then (when the tag's high bit is set) ISO/IEC 7816-4 padding: 0x80 and zero bytes up to a
 * multiple of the block size. The type travels inside the ciphertext, so it is authenticated
 * and never leaks through a side column. See `FORMAT.md`.
 */
const Tag = {
  string: 0x01,
  number: 0x02,
  boolean: 0x03,
  date: 0x04,
  bytes: 0x05,
  json: 0x06,
  bigint: 0x07,
} as const;

const PADDED = 0x80;
const PAD_MARKER = 0x80;

/**
 * Encodes a value with its type tag, padded when `padding` is given.
 *
 * @example
 * ```ts
 * encodeFieldValue('Jane'); // <01 4a 61 6e 65>
 * ```
 */
export function encodeFieldValue(value: FieldValue, padding?: PaddingOptions): Buffer {
  if (typeof value === 'string' && padding === undefined) {
    // The common case, in one allocation and one copy.
    const out = Buffer.allocUnsafe(1 + Buffer.byteLength(value, 'utf8'));
    out[0] = Tag.string;
    out.write(value, 1, 'utf8');
    return out;
  }
  const [tag, body] = encodeBody(value);
  if (padding === undefined) return withTag(tag, body);
  const block = padding.blockBytes;
  if (!Number.isInteger(block) || block < 2 || block > 4096) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'padding.blockBytes must be from 2 to 4096');
  }
  // Tag + body + at least the 0x80 marker, rounded up to the block size.
  const total = Math.ceil((body.length + 2) / block) * block;
  const out = Buffer.alloc(total);
  out[0] = tag | PADDED;
  body.copy(out, 1);
  out[1 + body.length] = PAD_MARKER;
  return out;
}

/**
 * Decodes what {@link encodeFieldValue} produced (after authentication, so a bad tag means a
 * newer writer or a bug, never an attacker).
 *
 * @example
 * ```ts
 * decodeFieldValue(encodeFieldValue(new Date(0))); // Date(1970-01-01T00:00:00.000Z)
 * ```
 */
export function decodeFieldValue(plaintext: Buffer): FieldValue {
  if (plaintext.length === 0) throw new MalformedCiphertext('field plaintext is empty');
  const first = plaintext[0] as number;
  // The common case without a view: an unpadded string.
  if (first === Tag.string) return plaintext.toString('utf8', 1);
  let body = plaintext.subarray(1);
  if ((first & PADDED) !== 0) body = unpad(body);
  const tag = first & ~PADDED;
  switch (tag) {
    case Tag.string:
      return body.toString('utf8');
    case Tag.number:
      return fixedLength(body, 8, 'number').readDoubleBE(0);
    case Tag.boolean: {
      const byte = fixedLength(body, 1, 'boolean')[0];
      if (byte !== 0 && byte !== 1) throw new MalformedCiphertext('field boolean is not 0 or 1');
      return byte === 1;
    }
    case Tag.date:
      return new Date(fixedLength(body, 8, 'date').readDoubleBE(0));
    case Tag.bytes:
      return Buffer.from(body);
    case Tag.json:
      return JSON.parse(body.toString('utf8')) as FieldValue;
    case Tag.bigint:
      return BigInt(body.toString('latin1'));
    default:
      throw new MalformedCiphertext(`unknown field value type tag ${tag}`);
  }
}

function encodeBody(value: FieldValue): [number, Buffer] {
  switch (typeof value) {
    case 'string':
      return [Tag.string, Buffer.from(value, 'utf8')];
    case 'number':
      return [Tag.number, float64(value)];
    case 'boolean':
      return [Tag.boolean, Buffer.of(value ? 1 : 0)];
    case 'bigint':
      return [Tag.bigint, Buffer.from(value.toString(), 'latin1')];
    case 'object':
      if (value instanceof Date) {
        const time = value.getTime();
        if (Number.isNaN(time)) throw new CustosError('ERR_INVALID_ARGUMENT', 'invalid Date');
        return [Tag.date, float64(time)];
      }
      if (value instanceof Uint8Array) {
        return [Tag.bytes, Buffer.from(value.buffer, value.byteOffset, value.length)];
      }
      return [Tag.json, json(value)];
    default:
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `a ${typeof value} cannot be encrypted: use a string, number, bigint, boolean, Date, bytes or JSON value`,
      );
  }
}

function json(value: unknown): Buffer {
  const isPlain =
    value === null ||
    Array.isArray(value) ||
    Object.getPrototypeOf(value) === Object.prototype ||
    Object.getPrototypeOf(value) === null;
  if (!isPlain) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'only plain objects and arrays are encrypted as JSON (convert class instances first)',
    );
  }
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function float64(value: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeDoubleBE(value, 0);
  return out;
}

function withTag(tag: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = tag;
  body.copy(out, 1);
  return out;
}

function unpad(body: Buffer): Buffer {
  let end = body.length - 1;
  while (end >= 0 && body[end] === 0) end--;
  if (end < 0 || body[end] !== PAD_MARKER) {
    throw new MalformedCiphertext('field plaintext padding is invalid');
  }
  return body.subarray(0, end);
}

function fixedLength(body: Buffer, length: number, what: string): Buffer {
  if (body.length !== length) throw new MalformedCiphertext(`field ${what} has the wrong length`);
  return body;
}
