import { CustosError } from '../errors/index.js';

/**
 * Associated data bound to a ciphertext: raw bytes, a string (UTF-8), or a record such as
 * `{ tenant: 't1', table: 'patients', column: 'ssn', row: 42 }`. It is authenticated, never
 * stored: decryption needs the same value.
 */
export type AssociatedData =
  | Uint8Array
  | string
  | Readonly<Record<string, string | number | bigint | undefined>>;

const EMPTY = Buffer.alloc(0);
const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// Starts every record encoding, so a record differs from any text or bytes that do not begin with
// this byte (UTF-8 text never does). Raw bytes equal to a record's encoding are the same
// associated data: callers that mix raw bytes and records for one column must not do so.
const RECORD_MARKER = 0xad;

/**
 * Encodes associated data canonically. Records are encoded with sorted field names and
 * length-prefixed names and values, so `{a: 'b|c'}` and `{a: 'b', c: ''}`-style ambiguities
 * cannot arise and key order does not matter. Fields whose value is `undefined` are omitted.
 *
 * @example
 * ```ts
 * encodeAssociatedData({ table: 'patients', column: 'ssn', row: 42 });
 * ```
 */
export function encodeAssociatedData(data: AssociatedData | undefined): Buffer {
  if (data === undefined) return EMPTY;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.length);
  if (typeof data !== 'object' || data === null) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'associated data must be bytes, a string or a record',
    );
  }
  const parts: Buffer[] = [Buffer.of(RECORD_MARKER)];
  for (const name of Object.keys(data).sort()) {
    const value = data[name];
    if (value === undefined) continue;
    if (!FIELD_NAME.test(name)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        'associated data field names must be 1-64 characters of A-Z a-z 0-9 _ . -',
      );
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `associated data field "${name}" is not finite`,
      );
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `associated data field "${name}" must be a string, number or bigint`,
      );
    }
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(String(value), 'utf8');
    const lengths = Buffer.allocUnsafe(5);
    lengths.writeUInt8(nameBytes.length, 0);
    lengths.writeUInt32BE(valueBytes.length, 1);
    parts.push(lengths, nameBytes, valueBytes);
  }
  return Buffer.concat(parts);
}
