/**
 * Transit key types, with Vault's names.
 *
 * @example
 * ```ts
 * console.log(`--type: one of ${TRANSIT_KEY_TYPES.join(', ')}`);
 * ```
 */
export const TRANSIT_KEY_TYPES = [
  'aes256-gcm96',
  'chacha20-poly1305',
  'ed25519',
  'ecdsa-p256',
  'hmac',
  'aes128-gcm96',
  'ecdsa-p384',
  'ecdsa-p521',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
] as const;

/**
 * A transit key type, with Vault's name.
 *
 * @example
 * ```ts
 * const type: TransitKeyType = 'ed25519';
 * kms.createKey('release-signing', { type });
 * ```
 */
export type TransitKeyType = (typeof TRANSIT_KEY_TYPES)[number];

/**
 * What a key is for, checked against its type at creation (an `ed25519` key signs, it does not
 * encrypt).
 *
 * @example
 * ```ts
 * console.log(`--purpose: one of ${KEY_PURPOSES.join(', ')}`);
 * ```
 */
export const KEY_PURPOSES = [
  'encryption',
  'signing',
  'jwt',
  'api_key',
  'database',
  'backup',
] as const;

/**
 * What a transit key is for.
 *
 * @example
 * ```ts
 * kms.createKey('sessions', { type: 'hmac', purpose: 'api_key' satisfies KeyPurpose });
 * ```
 */
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** Which operations a key type supports. */
export interface KeyTypeSupport {
  readonly encryption: boolean;
  readonly signing: boolean;
  readonly derivation: boolean;
  readonly hmacOnly: boolean;
}

export const keyTypeSupport: Readonly<Record<TransitKeyType, KeyTypeSupport>> = {
  'aes256-gcm96': { encryption: true, signing: false, derivation: true, hmacOnly: false },
  'chacha20-poly1305': { encryption: true, signing: false, derivation: true, hmacOnly: false },
  ed25519: { encryption: false, signing: true, derivation: false, hmacOnly: false },
  'ecdsa-p256': { encryption: false, signing: true, derivation: false, hmacOnly: false },
  hmac: { encryption: false, signing: false, derivation: false, hmacOnly: true },
  'aes128-gcm96': { encryption: true, signing: false, derivation: true, hmacOnly: false },
  'ecdsa-p384': { encryption: false, signing: true, derivation: false, hmacOnly: false },
  'ecdsa-p521': { encryption: false, signing: true, derivation: false, hmacOnly: false },
  // RSA keys encrypt (OAEP) and sign (PSS, PKCS#1 v1.5), as in Vault.
  'rsa-2048': { encryption: true, signing: true, derivation: false, hmacOnly: false },
  'rsa-3072': { encryption: true, signing: true, derivation: false, hmacOnly: false },
  'rsa-4096': { encryption: true, signing: true, derivation: false, hmacOnly: false },
};

const RSA_PURPOSES = ['encryption', 'signing', 'jwt', 'database', 'backup'] as const;

/** Purposes a type may serve. */
export const purposesOf: Readonly<Record<TransitKeyType, readonly KeyPurpose[]>> = {
  'aes256-gcm96': ['encryption', 'database', 'backup'],
  'chacha20-poly1305': ['encryption', 'database', 'backup'],
  ed25519: ['signing', 'jwt'],
  'ecdsa-p256': ['signing', 'jwt'],
  hmac: ['api_key', 'jwt'],
  'aes128-gcm96': ['encryption', 'database', 'backup'],
  'ecdsa-p384': ['signing', 'jwt'],
  'ecdsa-p521': ['signing', 'jwt'],
  'rsa-2048': RSA_PURPOSES,
  'rsa-3072': RSA_PURPOSES,
  'rsa-4096': RSA_PURPOSES,
};

/** The default purpose of a type. */
export function defaultPurpose(type: TransitKeyType): KeyPurpose {
  return purposesOf[type][0] as KeyPurpose;
}

/**
 * Whether `value` names a transit key type (for input read from a form, a flag or a file).
 *
 * @example
 * ```ts
 * if (isTransitKeyType(flags.type)) kms.createKey(flags.name, { type: flags.type });
 * ```
 */
export function isTransitKeyType(value: unknown): value is TransitKeyType {
  return typeof value === 'string' && (TRANSIT_KEY_TYPES as readonly string[]).includes(value);
}

/**
 * Whether `value` names a key purpose (for input read from a form, a flag or a file).
 *
 * @example
 * ```ts
 * if (isKeyPurpose(flags.purpose)) kms.createKey(flags.name, { purpose: flags.purpose });
 * ```
 */
export function isKeyPurpose(value: unknown): value is KeyPurpose {
  return typeof value === 'string' && (KEY_PURPOSES as readonly string[]).includes(value);
}
