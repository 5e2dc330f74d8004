import {
  constants,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  type SigningOptions,
} from 'node:crypto';
import { CustosError, DecryptionFailed } from '../errors/index.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_ARGUMENT', message);

/**
 * RSA-OAEP's hash, for the digest and MGF1 alike, with no label: SHA-256 as in Vault (the
 * default), or SHA-1 for AWS KMS's `RSAES_OAEP_SHA_1`.
 */
export type OaepHash = 'sha256' | 'sha1';

const oaep = (hash: OaepHash) =>
  ({ padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }) as const;
/** What OAEP takes of each block: twice the hash's length, plus 2 bytes. */
const oaepOverhead = (hash: OaepHash) => 2 * (hash === 'sha1' ? 20 : 32) + 2;

/** The modulus size of an RSA key in bytes. */
const modulusBytes = (key: KeyObject) =>
  Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);

/**
 * Encrypts with RSA-OAEP (SHA-256 unless `hash` says) as Vault's transit does for `rsa-*` keys.
 * The plaintext must fit one block (190 bytes under a 2048-bit key with SHA-256): encrypt a
 * data key for more.
 *
 * @example
 * ```ts
 * const body = rsaOaepEncrypt(publicKey, Buffer.from('a data key'));
 * ```
 */
export function rsaOaepEncrypt(
  publicKey: KeyObject,
  plaintext: Buffer,
  hash: OaepHash = 'sha256',
): Buffer {
  const most = modulusBytes(publicKey) - oaepOverhead(hash);
  if (plaintext.length > most)
    throw invalid(
      `plaintext is too long for RSA-OAEP with this key: at most ${most} bytes (encrypt a data key with it instead)`,
    );
  return publicEncrypt({ key: publicKey, ...oaep(hash) }, plaintext);
}

/**
 * Decrypts an RSA-OAEP block (SHA-256 unless `hash` says); any failure is one
 * `DecryptionFailed` (Vault's words), so no caller learns which check failed.
 *
 * @example
 * ```ts
 * const plaintext = rsaOaepDecrypt(privateKey, body);
 * ```
 */
export function rsaOaepDecrypt(
  privateKey: KeyObject,
  body: Buffer,
  hash: OaepHash = 'sha256',
): Buffer {
  if (body.length !== modulusBytes(privateKey))
    throw new DecryptionFailed('crypto/rsa: decryption error');
  try {
    return privateDecrypt({ key: privateKey, ...oaep(hash) }, body);
  } catch {
    throw new DecryptionFailed('crypto/rsa: decryption error');
  }
}

/** RSA signature schemes, with Vault's names. */
export const RSA_SIGNATURE_ALGORITHMS = ['pss', 'pkcs1v15'] as const;

/** The most salt PSS can take under `key` and a hash of `hashBytes` bytes. */
function maxSaltLength(key: KeyObject, hashBytes: number): number {
  const emBits = (key.asymmetricKeyDetails?.modulusLength ?? 0) - 1;
  return Math.ceil(emBits / 8) - hashBytes - 2;
}

/**
 * The node:crypto key options of an RSA signature: PKCS#1 v1.5, or PSS with Vault's
 * `salt_length` — `auto` (the default: the largest salt when signing, any salt when verifying),
 * `hash` (the hash's length) or a number of bytes the key allows.
 *
 * @example
 * ```ts
 * sign('sha256', data, rsaSignatureKey(privateKey, 'pss', undefined, 32, 'sign'));
 * ```
 */
export function rsaSignatureKey(
  key: KeyObject,
  algorithm: unknown,
  saltLength: unknown,
  hashBytes: number,
  mode: 'sign' | 'verify',
): { key: KeyObject } & SigningOptions {
  const scheme = algorithm ?? 'pss';
  if (scheme === 'pkcs1v15') {
    if (saltLength !== undefined && saltLength !== 'auto')
      throw invalid('salt_length applies to the pss signature algorithm only');
    return { key, padding: constants.RSA_PKCS1_PADDING };
  }
  if (scheme !== 'pss')
    throw invalid(`invalid signature_algorithm; use ${RSA_SIGNATURE_ALGORITHMS.join(' or ')}`);
  let salt: number;
  if (saltLength === undefined || saltLength === 'auto') {
    salt = mode === 'sign' ? constants.RSA_PSS_SALTLEN_MAX_SIGN : constants.RSA_PSS_SALTLEN_AUTO;
  } else if (saltLength === 'hash') {
    salt = constants.RSA_PSS_SALTLEN_DIGEST;
  } else {
    const n =
      typeof saltLength === 'string' && /^\d{1,4}$/.test(saltLength)
        ? Number(saltLength)
        : saltLength;
    const most = maxSaltLength(key, hashBytes);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > most)
      throw invalid(`salt_length must be auto, hash or a number of bytes from 0 to ${most}`);
    salt = n;
  }
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt };
}
