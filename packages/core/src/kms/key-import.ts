import {
  constants,
  createDecipheriv,
  generateKeyPair,
  type KeyObject,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import { promisify } from 'node:util';
import { CustosError } from '../errors/index.js';
import { hasKeyPair, keyPairMaterial, parsePrivateKey, symmetricKeyBytes } from './key-material.js';
import type { TransitKeyType } from './key-types.js';
import type { TransitKeyVersion } from './transit-key.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const invalid = (message: string) => new CustosError('ERR_INVALID_ARGUMENT', message);

/**
 * The size of the RSA-OAEP-wrapped ephemeral key at the start of an import's `ciphertext`: one
 * block of the RSA-4096 wrapping key, as in Vault.
 */
export const WRAPPED_EPHEMERAL_KEY_BYTES = 512;

/** RFC 5649's alternative initial value: AES key wrap with padding (KWP). */
const KWP_IV = Buffer.from('a65959a6', 'hex');

/** Vault's `hash_function` names (any case) → node's, for the OAEP wrapping of the AES key. */
const IMPORT_HASHES: Readonly<Record<string, string>> = {
  SHA1: 'sha1',
  SHA224: 'sha224',
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
};

/** The types a key may be imported as: every type with key material (as in Vault). */
export const IMPORTABLE_KEY_TYPES: readonly TransitKeyType[] = [
  'aes128-gcm96',
  'aes256-gcm96',
  'chacha20-poly1305',
  'ecdsa-p256',
  'ecdsa-p384',
  'ecdsa-p521',
  'ed25519',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
  'hmac',
];

/**
 * A new transit wrapping key (RSA-4096, PKCS#8 DER): what `transit/wrapping_key` hands out the
 * public half of, once per server.
 *
 * @example
 * ```ts
 * const der = await newWrappingKey(); // store it behind the barrier (made off the event loop)
 * ```
 */
export async function newWrappingKey(): Promise<Buffer> {
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 4096,
    publicExponent: 0x10001,
  });
  return privateKey.export({ type: 'pkcs8', format: 'der' });
}

/**
 * Unwraps an imported key as Vault's BYOK does: `ciphertext` is an ephemeral AES-256 key wrapped
 * with RSA-OAEP under the wrapping key (512 bytes; `hashFunction` SHA1…SHA512, default SHA256,
 * for OAEP's digest and MGF1, no label) followed by the target key wrapped with that AES key by
 * AES key wrap with padding (RFC 5649). Every failure of the unwrapping is one message, so a
 * caller learns nothing about which step failed.
 *
 * @example
 * ```ts
 * const material = unwrapImportedKey(wrappingKey, Buffer.from(body.ciphertext, 'base64'));
 * ```
 */
export function unwrapImportedKey(
  wrappingKey: KeyObject,
  ciphertext: Buffer,
  hashFunction: unknown = 'SHA256',
): Buffer {
  const name = typeof hashFunction === 'string' ? hashFunction.toUpperCase() : undefined;
  const oaepHash =
    name !== undefined && Object.hasOwn(IMPORT_HASHES, name) ? IMPORT_HASHES[name] : undefined;
  if (oaepHash === undefined)
    throw invalid(`unknown hash function; use one of ${Object.keys(IMPORT_HASHES).join(', ')}`);
  if (ciphertext.length <= WRAPPED_EPHEMERAL_KEY_BYTES)
    throw invalid('provided ciphertext is too short');
  let ephemeral: Buffer | undefined;
  try {
    ephemeral = privateDecrypt(
      { key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
      ciphertext.subarray(0, WRAPPED_EPHEMERAL_KEY_BYTES),
    );
    if (ephemeral.length !== 32) throw new Error('not an AES-256 key');
    const kwp = createDecipheriv('id-aes256-wrap-pad', ephemeral, KWP_IV);
    return Buffer.concat([
      kwp.update(ciphertext.subarray(WRAPPED_EPHEMERAL_KEY_BYTES)),
      kwp.final(),
    ]);
  } catch {
    throw invalid(
      'the ciphertext does not unwrap: wrap an AES-256 key with RSA-OAEP under this server’s transit/wrapping_key (hash_function as given), then the key with that AES key by AES-KWP (RFC 5649)',
    );
  } finally {
    ephemeral?.fill(0);
  }
}

/**
 * One version of an imported key: `material` checked for `type` — a symmetric key of the
 * type's exact length (32 bytes for hmac), or a PKCS#8 DER private key of the type's algorithm,
 * curve or modulus size whose halves belong together. A new HMAC key is made, as for any
 * version. The refusal names what is wrong, never the material.
 *
 * @example
 * ```ts
 * importedKeyVersion('rsa-2048', der, 1, new Date());
 * ```
 */
export function importedKeyVersion(
  type: TransitKeyType,
  material: Buffer,
  version: number,
  now: Date,
): TransitKeyVersion {
  if (!IMPORTABLE_KEY_TYPES.includes(type))
    throw invalid(`keys of type ${type} cannot be imported`);
  const base = { version, created_time: now.toISOString(), encryptions: 0 };
  if (type === 'hmac') {
    if (material.length !== 32) throw invalid('an imported hmac key must be 32 bytes');
    return { ...base, hmac_key: material.toString('base64') };
  }
  const hmac_key = randomBytes(32).toString('base64');
  const bytes = symmetricKeyBytes(type);
  if (bytes !== undefined) {
    if (material.length !== bytes)
      throw invalid(`an imported ${type} key must be ${bytes} bytes (a raw key)`);
    return { ...base, hmac_key, key: material.toString('base64') };
  }
  if (!hasKeyPair(type)) throw invalid(`keys of type ${type} cannot be imported`);
  const parsed = parsePrivateKey(type, material);
  if (typeof parsed === 'string') throw invalid(`the imported key ${parsed}`);
  return { ...base, hmac_key, ...keyPairMaterial(type, parsed) };
}
