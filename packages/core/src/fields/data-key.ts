import { createHash } from 'node:crypto';
import { Keyring } from '../crypto/index.js';
import { CustosError } from '../errors/index.js';

/** The name of the one key in a data key's keyring. */
export const DATA_KEY = 'data-key';

/** An unwrapped data key, ready to encrypt and decrypt, and its wrapped form (stored with values). */
export interface DataKey {
  readonly keyring: Keyring;
  readonly wrapped: string;
  /** Encryptions so far (a data key stops encrypting after `maxUses`). */
  uses: number;
}

/**
 * Wraps an unwrapped data key in a one-key keyring, so it encrypts into the standard envelope.
 * Its key id comes from the wrapped form (public), never from the key material.
 *
 * No copy of the key bytes stays on the JS heap: `plaintext` is zeroed, and so is the copy the
 * keyring keeps for serialising (a data key is never serialised). What remains is the
 * `KeyObject`, whose bytes live outside the heap and go when a cache drops the key.
 */
export function importDataKey(plaintext: Uint8Array, wrapped: string): DataKey {
  if (!(plaintext instanceof Uint8Array) || plaintext.length !== 32) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'a data key must be 32 bytes');
  }
  const id = createHash('sha256')
    .update('custos/fields/v1/data-key-id\u0000')
    .update(wrapped)
    .digest('hex')
    .slice(0, 16);
  const keyring = new Keyring();
  keyring.createKey(DATA_KEY, { material: plaintext, id });
  plaintext.fill(0);
  for (const key of Keyring.internals.records(keyring)) {
    for (const version of key.versions.values()) {
      version.material?.fill(0);
      version.material = undefined;
    }
  }
  return { keyring, wrapped, uses: 0 };
}
