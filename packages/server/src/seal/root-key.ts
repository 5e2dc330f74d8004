import { randomBytes } from 'node:crypto';
import { hmacSha256 } from '@custos/core/crypto';
import { createAeadKey, open, seal } from '@custos/core/internal/aead';
import { combine, split } from 'shamir-secret-sharing';
import { ServerError } from '../errors.js';

const ROOT_KEY_LENGTH = 32;
const CHECK_LENGTH = 8;
const CHECK_INFO = 'custos/root-key-check/v1';
const KEYRING_AAD = Buffer.from('custos/core/keyring/v1');

/**
 * The secret that is split into shares: the 32-byte root key followed by an 8-byte check value
 * (HMAC of the root key). A combination of wrong or mixed-up shares yields 40 bytes whose check
 * does not match, so it is refused before it touches storage.
 */
function withCheck(rootKey: Buffer): Buffer {
  return Buffer.concat([rootKey, hmacSha256(rootKey, CHECK_INFO).subarray(0, CHECK_LENGTH)]);
}

function unsealFailed(): ServerError {
  return new ServerError(
    'ERR_UNSEAL_FAILED',
    'the unseal keys do not reproduce the root key (wrong keys, or keys from another server); unseal progress was reset',
  );
}

/** A fresh root key and its shares (`threshold` of `shares` reproduce it). */
export async function createRootKey(
  shares: number,
  threshold: number,
): Promise<{ rootKey: Buffer; keyShares: Buffer[] }> {
  const rootKey = randomBytes(ROOT_KEY_LENGTH);
  const secret = withCheck(rootKey);
  if (shares === 1) {
    // One share: the share is the secret itself, tagged with x = 0 (Shamir shares use 1..255).
    return { rootKey, keyShares: [Buffer.concat([secret, Buffer.of(0)])] };
  }
  // The library checks for a plain Uint8Array (a Buffer is refused).
  const parts = await split(new Uint8Array(secret), shares, threshold);
  return { rootKey, keyShares: parts.map((p) => Buffer.from(p)) };
}

/** Expected length of one share in bytes. */
export const SHARE_LENGTH = ROOT_KEY_LENGTH + CHECK_LENGTH + 1;

/**
 * Reproduces the root key from `threshold` distinct shares and verifies its check value.
 * Throws `ERR_UNSEAL_FAILED` when the shares do not reproduce it.
 */
export async function combineRootKey(
  keyShares: readonly Buffer[],
  threshold: number,
): Promise<Buffer> {
  let secret: Buffer;
  if (threshold === 1) {
    const only = keyShares[0] as Buffer;
    if (only[only.length - 1] !== 0) throw unsealFailed();
    secret = only.subarray(0, only.length - 1);
  } else {
    try {
      secret = Buffer.from(await combine(keyShares.map((s) => new Uint8Array(s))));
    } catch {
      throw unsealFailed();
    }
  }
  const rootKey = secret.subarray(0, ROOT_KEY_LENGTH);
  if (secret.length !== ROOT_KEY_LENGTH + CHECK_LENGTH || !withCheck(rootKey).equals(secret)) {
    throw unsealFailed();
  }
  return Buffer.from(rootKey);
}

/** Encrypts the serialised barrier keyring under the root key (AES-256-GCM, random nonce). */
export function encryptKeyring(rootKey: Buffer, keyringJson: string): Buffer {
  const nonce = randomBytes(12);
  return Buffer.concat([
    nonce,
    seal(createAeadKey('aes-256-gcm', rootKey), nonce, keyringJson, KEYRING_AAD),
  ]);
}

/** Decrypts the barrier keyring; a wrong root key throws `ERR_UNSEAL_FAILED`. */
export function decryptKeyring(rootKey: Buffer, blob: Uint8Array): string {
  const bytes = Buffer.from(blob);
  try {
    return open(
      createAeadKey('aes-256-gcm', rootKey),
      bytes.subarray(0, 12),
      bytes.subarray(12),
      KEYRING_AAD,
    ).toString('utf8');
  } catch {
    throw unsealFailed();
  }
}
