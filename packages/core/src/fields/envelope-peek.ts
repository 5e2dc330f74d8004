import { ENVELOPE_TEXT_PREFIX, type Keyring } from '../crypto/index.js';
import { CustosError, MalformedCiphertext } from '../errors/index.js';

/** Separates the data envelope from the wrapped data key in KMS-mode ciphertexts. */
export const WRAPPED_KEY_SEPARATOR = '.';
const PRINTABLE = /^[\x21-\x7e]{1,4096}$/;
const SIV_ALGORITHM_ID = 3;

/**
 * Returns `value` if it looks like a field ciphertext; otherwise refuses with
 * `ERR_FIELD_NOT_ENCRYPTED`, naming the column but never echoing the value (it may be plaintext).
 */
export function requireFieldCiphertext(
  value: unknown,
  context: { readonly table?: unknown; readonly column?: unknown } | undefined,
): string {
  if (typeof value === 'string' && value.startsWith(ENVELOPE_TEXT_PREFIX)) return value;
  const where =
    context && typeof context.table === 'string' && typeof context.column === 'string'
      ? `${context.table}.${context.column}`
      : 'the column';
  throw new CustosError(
    'ERR_FIELD_NOT_ENCRYPTED',
    `${where} holds a ${value === null ? 'null' : typeof value} that is not a custos ciphertext; encrypt existing plaintext with custos reencrypt --encrypt-plaintext`,
  );
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether a text envelope was made by the deterministic algorithm, read from its second byte
 * without decoding anything: that byte is the low 4 bits of the second base64url character and
 * the high 4 bits of the third.
 */
export function isDeterministicEnvelope(text: string): boolean {
  const start = ENVELOPE_TEXT_PREFIX.length;
  const second = BASE64URL.indexOf(text.charAt(start + 1));
  const third = BASE64URL.indexOf(text.charAt(start + 2));
  if (second < 0 || third < 0) return false;
  return (((second & 0x0f) << 4) | (third >> 2)) === SIV_ALGORITHM_ID;
}

/** A KMS-mode ciphertext split into its data envelope and the wrapped data key. */
export interface SplitCiphertext {
  readonly envelope: string;
  /** Absent for plain envelopes (keyring mode, and deterministic values in KMS mode). */
  readonly wrappedKey: string | undefined;
}

/**
 * Splits `custos:<envelope>.<wrapped key>`. The envelope's base64url never contains the
 * separator, so the first one ends it.
 */
export function splitWrappedKey(text: string): SplitCiphertext {
  const at = text.indexOf(WRAPPED_KEY_SEPARATOR, ENVELOPE_TEXT_PREFIX.length);
  if (at < 0) return { envelope: text, wrappedKey: undefined };
  const wrappedKey = text.slice(at + 1);
  if (!PRINTABLE.test(wrappedKey)) {
    throw new MalformedCiphertext('the wrapped data key of a field ciphertext is malformed');
  }
  return { envelope: text.slice(0, at), wrappedKey };
}

/** Joins an envelope and its wrapped data key (see {@link splitWrappedKey}). */
export function joinWrappedKey(envelope: string, wrappedKey: string): string {
  if (!PRINTABLE.test(wrappedKey)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'a wrapped data key must be 1-4096 printable ASCII characters without spaces',
    );
  }
  return `${envelope}${WRAPPED_KEY_SEPARATOR}${wrappedKey}`;
}

const namesByKeyring = new WeakMap<Keyring, Map<string, string>>();

/** Name of the key with this id in the keyring, cached (ids never change names). */
export function keyNameById(keyring: Keyring, keyId: string): string | undefined {
  let names = namesByKeyring.get(keyring);
  if (names === undefined || !names.has(keyId)) {
    names = new Map(keyring.toJSON().keys.map((k) => [k.id, k.name]));
    namesByKeyring.set(keyring, names);
  }
  return names.get(keyId);
}
