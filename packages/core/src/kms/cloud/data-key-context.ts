import { encodeAssociatedData } from '../../crypto/associated-data.js';
import { CustosError } from '../../errors/index.js';
import { type DataKeyContext, dataKeyBinding } from '../../fields/data-key-binding.js';

/** Bytes of a field data key. */
export const DATA_KEY_BYTES = 32;

/**
 * The associated data that binds a data key to its context, encoded as every provider encodes
 * it (the keyring and PKCS#11 providers use the same fields): {@link dataKeyBinding}, the
 * purpose and the tenant (or the backup file).
 */
export function dataKeyAad(context: DataKeyContext): Buffer {
  return encodeAssociatedData(dataKeyBinding(context));
}

/** Fails (zeroing it) unless `key` is a 32-byte data key. */
export function requireDataKey(key: Buffer): Buffer {
  if (key.length !== DATA_KEY_BYTES) {
    key.fill(0);
    throw new CustosError('ERR_INVALID_ARGUMENT', 'the wrapped value is not a 32-byte data key');
  }
  return key;
}

/** The bytes of a field the KMS client decoded, or `ERR_KMS_PROVIDER` naming the field (never a value). */
export function serviceBytes(value: unknown, what: string): Buffer {
  if (value instanceof Uint8Array && value.length > 0) {
    return Buffer.from(value.buffer, value.byteOffset, value.length);
  }
  throw new CustosError('ERR_KMS_PROVIDER', `the KMS answered without ${what}`);
}
