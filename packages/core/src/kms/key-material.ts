import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { promisify } from 'node:util';
import type { TransitKeyType } from './key-types.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** How each type's key material is made: symmetric bytes, an RSA modulus, an EC curve. */
type MaterialSpec =
  | { readonly kind: 'symmetric'; readonly bytes: number }
  | { readonly kind: 'rsa'; readonly bits: number }
  | { readonly kind: 'ec'; readonly curve: string; readonly opensslCurve: string }
  | { readonly kind: 'ed25519' }
  | { readonly kind: 'hmac' };

const SPECS: Readonly<Record<TransitKeyType, MaterialSpec>> = {
  'aes256-gcm96': { kind: 'symmetric', bytes: 32 },
  'chacha20-poly1305': { kind: 'symmetric', bytes: 32 },
  'aes128-gcm96': { kind: 'symmetric', bytes: 16 },
  ed25519: { kind: 'ed25519' },
  'ecdsa-p256': { kind: 'ec', curve: 'P-256', opensslCurve: 'prime256v1' },
  'ecdsa-p384': { kind: 'ec', curve: 'P-384', opensslCurve: 'secp384r1' },
  'ecdsa-p521': { kind: 'ec', curve: 'P-521', opensslCurve: 'secp521r1' },
  'rsa-2048': { kind: 'rsa', bits: 2048 },
  'rsa-3072': { kind: 'rsa', bits: 3072 },
  'rsa-4096': { kind: 'rsa', bits: 4096 },
  hmac: { kind: 'hmac' },
};

/**
 * The length of a symmetric type's key in bytes (16 for aes128-gcm96, 32 for aes256-gcm96 and
 * chacha20-poly1305), or undefined for the other types.
 *
 * @example
 * ```ts
 * symmetricKeyBytes('aes128-gcm96'); // 16
 * ```
 */
export function symmetricKeyBytes(type: TransitKeyType): number | undefined {
  const spec = SPECS[type];
  return spec.kind === 'symmetric' ? spec.bytes : undefined;
}

/** Whether a version of `type` holds a key pair (`private_key`, `public_key`). */
export function hasKeyPair(type: TransitKeyType): boolean {
  const { kind } = SPECS[type];
  return kind === 'rsa' || kind === 'ec' || kind === 'ed25519';
}

/** Whether `type` is an RSA type. */
export function isRsaType(type: TransitKeyType): boolean {
  return SPECS[type].kind === 'rsa';
}

/**
 * A version's `name` in `keys/:name` reads, as Vault gives it: the curve for ECDSA (`P-384`), the
 * type for the others (`rsa-2048`, `ed25519`).
 *
 * @example
 * ```ts
 * versionKeyName('ecdsa-p521'); // 'P-521'
 * ```
 */
export function versionKeyName(type: TransitKeyType): string {
  const spec = SPECS[type];
  return spec.kind === 'ec' ? spec.curve : type;
}

/**
 * The public key in the form a version stores it and `keys/:name` shows it (as Vault): raw
 * base64 for ed25519, a PEM `PUBLIC KEY` (SPKI) for ECDSA and RSA.
 *
 * @example
 * ```ts
 * publicFormOf('rsa-2048', privateKey); // '-----BEGIN PUBLIC KEY-----\n…'
 * ```
 */
export function publicFormOf(type: TransitKeyType, privateKey: KeyObject): string {
  const publicKey = createPublicKey(privateKey);
  return SPECS[type].kind === 'ed25519'
    ? Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('base64')
    : publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Why `privateKey` is not a key of `type` (wrong algorithm, curve or modulus size), or undefined
 * when it is. The text names the type only, never the key.
 *
 * @example
 * ```ts
 * privateKeyMismatch('rsa-4096', key); // 'is a 2048-bit RSA key, not rsa-4096'
 * ```
 */
export function privateKeyMismatch(
  type: TransitKeyType,
  privateKey: KeyObject,
): string | undefined {
  const spec = SPECS[type];
  const details = privateKey.asymmetricKeyDetails;
  if (spec.kind === 'ed25519')
    return privateKey.asymmetricKeyType === 'ed25519' ? undefined : `is not an ${type} key`;
  if (spec.kind === 'ec') {
    if (privateKey.asymmetricKeyType !== 'ec') return `is not an ECDSA key (type ${type})`;
    return details?.namedCurve === spec.opensslCurve
      ? undefined
      : `is an ECDSA key on another curve than ${spec.curve} (type ${type})`;
  }
  if (spec.kind === 'rsa') {
    if (privateKey.asymmetricKeyType !== 'rsa') return `is not an RSA key (type ${type})`;
    return details?.modulusLength === spec.bits
      ? undefined
      : `is a ${details?.modulusLength ?? 'unknown'}-bit RSA key, not ${spec.bits}-bit (type ${type})`;
  }
  return `does not belong in a key of type ${type}`;
}

/**
 * Parses a PKCS#8 DER private key and checks that it is a key of `type` whose halves belong
 * together (a signature made with it verifies under its public key). Returns the key, or the
 * problem (never showing the key).
 *
 * @example
 * ```ts
 * const parsed = parsePrivateKey('ecdsa-p384', der);
 * if (typeof parsed === 'string') throw new Error(`private_key ${parsed}`);
 * ```
 */
export function parsePrivateKey(type: TransitKeyType, der: Buffer): KeyObject | string {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return `is not a PKCS#8 private key`;
  }
  const mismatch = privateKeyMismatch(type, privateKey);
  if (mismatch !== undefined) return mismatch;
  // Pairwise consistency: OpenSSL loads an RSA key whose parts disagree without complaint.
  const probe = Buffer.from('custos/transit/key-pair-check/v1');
  const digest = SPECS[type].kind === 'ed25519' ? null : 'sha256';
  try {
    if (!verify(digest, probe, createPublicKey(privateKey), sign(digest, probe, privateKey)))
      return 'does not match its own public key';
  } catch {
    return 'does not match its own public key';
  }
  return privateKey;
}

/** A version's key pair as stored: PKCS#8 DER (base64) and the public form. */
export function keyPairMaterial(
  type: TransitKeyType,
  privateKey: KeyObject,
): { private_key: string; public_key: string } {
  return {
    private_key: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    public_key: publicFormOf(type, privateKey),
  };
}

/**
 * New key material for one version of `type`: `key` (symmetric types) or a key pair; the HMAC
 * key every version has is made by the caller.
 *
 * @example
 * ```ts
 * newKeyMaterial('rsa-2048'); // { private_key: '…', public_key: '-----BEGIN PUBLIC KEY-----…' }
 * ```
 */
export function newKeyMaterial(type: TransitKeyType): {
  key?: string;
  private_key?: string;
  public_key?: string;
} {
  const spec = SPECS[type];
  switch (spec.kind) {
    case 'symmetric':
      return { key: randomBytes(spec.bytes).toString('base64') };
    case 'ed25519':
      return keyPairMaterial(type, generateKeyPairSync('ed25519').privateKey);
    case 'ec':
      return keyPairMaterial(
        type,
        generateKeyPairSync('ec', { namedCurve: spec.curve }).privateKey,
      );
    case 'rsa':
      return keyPairMaterial(
        type,
        generateKeyPairSync('rsa', { modulusLength: spec.bits, publicExponent: 0x10001 })
          .privateKey,
      );
    case 'hmac':
      return {};
  }
}

/** The material {@link newKeyMaterial} returns. */
export type KeyMaterial = ReturnType<typeof newKeyMaterial>;

/**
 * {@link newKeyMaterial} without blocking: key pairs are generated on libuv's thread pool (an
 * RSA-4096 key takes seconds of CPU), so a server keeps answering meanwhile. The server makes
 * material this way before it opens a storage transaction.
 *
 * @example
 * ```ts
 * const material = await newKeyMaterialAsync('rsa-4096');
 * ```
 */
export async function newKeyMaterialAsync(type: TransitKeyType): Promise<KeyMaterial> {
  const spec = SPECS[type];
  if (spec.kind === 'rsa') {
    const { privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: spec.bits,
      publicExponent: 0x10001,
    });
    return keyPairMaterial(type, privateKey);
  }
  if (spec.kind === 'ec') {
    const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: spec.curve });
    return keyPairMaterial(type, privateKey);
  }
  return newKeyMaterial(type);
}
