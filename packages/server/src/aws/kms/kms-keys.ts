import { randomUUID } from 'node:crypto';
import {
  effectiveState,
  type TransitKeyPolicy,
  type TransitKeyView,
} from '@custos/core/internal/transit';
import type { TransitKeyType } from '@custos/core/kms';
import type { TransitStore } from '../../transit/transit-store.js';
import type { UsageLog } from '../../transit/usage-log.js';
import {
  kmsDisabled,
  kmsErrorOf,
  kmsInvalidKeyUsage,
  kmsInvalidState,
  kmsNotFound,
  kmsUnsupported,
} from './kms-error.js';
import { type KmsSite, keyArnOf } from './kms-key-id.js';
import type { KmsKeyEntry, KmsStore } from './kms-store.js';

/** What the KMS operations work on. */
export interface KmsDeps {
  readonly transit: TransitStore;
  readonly usage: Pick<UsageLog, 'record'>;
  readonly store: KmsStore;
  readonly site: KmsSite;
  /** Unix milliseconds. */
  readonly now: () => number;
}

/** One request's view of the KMS API: its deps, who calls, and the keys admission resolved. */
export interface KmsCall {
  readonly deps: KmsDeps;
  readonly requestId: string;
  /** The caller as the usage log names it (never an accessor or key id). */
  readonly displayName: string;
  /** The transit key each role of the request names (resolved once, at admission). */
  readonly keys: Readonly<Record<string, string | undefined>>;
}

/** How a transit key type reads in KMS terms. */
export interface KmsSpec {
  readonly keySpec: string;
  readonly keyUsage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC';
  /** The signing algorithms the key serves (SIGN_VERIFY keys), in AWS's order. */
  readonly signingAlgorithms?: readonly string[];
  /** The encryption algorithms the key serves (ENCRYPT_DECRYPT keys). */
  readonly encryptionAlgorithms?: readonly string[];
}

/** The KMS key usages a key may be created with and keep (per key, in its KMS entry). */
export type KmsKeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';

/** RSA-OAEP as AWS KMS names it, by the hash OAEP uses. */
export const RSA_ENCRYPTION = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' } as const;

/** An RSA encryption algorithm's name. */
export type RsaEncryptionAlgorithm = keyof typeof RSA_ENCRYPTION;

/** What transit's signing takes for a KMS signing algorithm (AWS's PSS salt: the hash's length). */
export interface KmsSigning {
  readonly hashAlgorithm?: string;
  readonly signatureAlgorithm?: 'pss' | 'pkcs1v15';
  readonly saltLength?: 'hash';
}

const SIGNINGS: Readonly<Record<string, KmsSigning>> = {
  ECDSA_SHA_256: { hashAlgorithm: 'sha2-256' },
  ECDSA_SHA_384: { hashAlgorithm: 'sha2-384' },
  ECDSA_SHA_512: { hashAlgorithm: 'sha2-512' },
  ED25519_SHA_512: {},
  RSASSA_PSS_SHA_256: { hashAlgorithm: 'sha2-256', signatureAlgorithm: 'pss', saltLength: 'hash' },
  RSASSA_PSS_SHA_384: { hashAlgorithm: 'sha2-384', signatureAlgorithm: 'pss', saltLength: 'hash' },
  RSASSA_PSS_SHA_512: { hashAlgorithm: 'sha2-512', signatureAlgorithm: 'pss', saltLength: 'hash' },
  RSASSA_PKCS1_V1_5_SHA_256: { hashAlgorithm: 'sha2-256', signatureAlgorithm: 'pkcs1v15' },
  RSASSA_PKCS1_V1_5_SHA_384: { hashAlgorithm: 'sha2-384', signatureAlgorithm: 'pkcs1v15' },
  RSASSA_PKCS1_V1_5_SHA_512: { hashAlgorithm: 'sha2-512', signatureAlgorithm: 'pkcs1v15' },
};

const RSA_SIGNING = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
] as const;

const signingKey = (keySpec: string, signingAlgorithms: readonly string[]): KmsSpec => ({
  keySpec,
  keyUsage: 'SIGN_VERIFY',
  signingAlgorithms,
});

/**
 * KMS's names for the transit types it can serve (other types are described, not used). An RSA
 * key is a SIGN_VERIFY key unless its KMS entry says ENCRYPT_DECRYPT (CreateKey keeps the usage
 * asked for: a KMS key has one usage); see {@link specOf}.
 */
const SYMMETRIC: KmsSpec = {
  keySpec: 'SYMMETRIC_DEFAULT',
  keyUsage: 'ENCRYPT_DECRYPT',
  encryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
};

const SPECS: Readonly<Partial<Record<string, KmsSpec>>> = {
  'aes256-gcm96': SYMMETRIC,
  'chacha20-poly1305': SYMMETRIC,
  'ecdsa-p256': signingKey('ECC_NIST_P256', ['ECDSA_SHA_256']),
  'ecdsa-p384': signingKey('ECC_NIST_P384', ['ECDSA_SHA_384']),
  'ecdsa-p521': signingKey('ECC_NIST_P521', ['ECDSA_SHA_512']),
  ed25519: signingKey('ECC_NIST_EDWARDS25519', ['ED25519_SHA_512']),
  'rsa-2048': signingKey('RSA_2048', RSA_SIGNING),
  'rsa-3072': signingKey('RSA_3072', RSA_SIGNING),
  'rsa-4096': signingKey('RSA_4096', RSA_SIGNING),
  hmac: { keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' },
};

/** Whether a transit key type is an RSA type. */
const isRsa = (type: string) => /^rsa-(2048|3072|4096)$/.test(type);

/**
 * The KMS spec of a transit key type, or undefined for a type the KMS API does not serve. An
 * RSA key's usage is its KMS entry's (`usage`): SIGN_VERIFY unless the key was created for
 * ENCRYPT_DECRYPT (RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256).
 */
export function specOf(type: string, usage?: KmsKeyUsage): KmsSpec | undefined {
  const spec = Object.hasOwn(SPECS, type) ? SPECS[type] : undefined;
  if (spec === undefined || usage !== 'ENCRYPT_DECRYPT' || !isRsa(type)) return spec;
  return {
    keySpec: spec.keySpec,
    keyUsage: 'ENCRYPT_DECRYPT',
    encryptionAlgorithms: Object.keys(RSA_ENCRYPTION),
  };
}

/** The KMS spec of a key: its type, and the usage its KMS entry keeps. */
export async function kmsSpecOf(
  deps: KmsDeps,
  policy: TransitKeyPolicy,
): Promise<KmsSpec | undefined> {
  return specOf(policy.type, (await keyEntryOf(deps, policy)).keyUsage);
}

/**
 * The transit signing parameters of `algorithm` for a key of `type`, or undefined where the key
 * does not sign with it (AWS's InvalidKeyUsageException).
 */
export function signingOf(type: string, algorithm: string): KmsSigning | undefined {
  if (specOf(type)?.signingAlgorithms?.includes(algorithm) !== true) return undefined;
  return Object.hasOwn(SIGNINGS, algorithm) ? SIGNINGS[algorithm] : undefined;
}

/** The transit type CreateKey makes for a `KeySpec` and `KeyUsage`. */
export function typeForSpec(keySpec: string, keyUsage: string): TransitKeyType {
  if (keySpec === 'SYMMETRIC_DEFAULT' && keyUsage === 'ENCRYPT_DECRYPT') return 'aes256-gcm96';
  if (keyUsage === 'ENCRYPT_DECRYPT' && /^RSA_(2048|3072|4096)$/.test(keySpec))
    return `rsa-${keySpec.slice(4)}` as TransitKeyType;
  if (keyUsage === 'SIGN_VERIFY') {
    for (const [type, spec] of Object.entries(SPECS))
      if (spec?.keyUsage === 'SIGN_VERIFY' && spec.keySpec === keySpec)
        return type as TransitKeyType;
  }
  throw kmsUnsupported(
    'this server creates SYMMETRIC_DEFAULT, RSA_2048, RSA_3072 or RSA_4096 keys for ENCRYPT_DECRYPT, and ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_NIST_EDWARDS25519, RSA_2048, RSA_3072 or RSA_4096 keys for SIGN_VERIFY',
  );
}

/** AWS's key state of a transit key: Enabled, Disabled or PendingDeletion. */
export function awsStateOf(policy: TransitKeyPolicy, nowMs: number): string {
  const state = effectiveState(policy.state, policy.expires_at, nowMs);
  if (state === 'active' || state === 'rotating') return 'Enabled';
  if (state === 'pending_deletion') return 'PendingDeletion';
  return 'Disabled';
}

/**
 * Refuses a key the operation cannot use, with AWS's error: pending deletion →
 * KMSInvalidStateException; disabled (inactive, expired, revoked) → DisabledException, except
 * that a revoked key with `decrypt_after_revocation` still decrypts and verifies (transit's
 * rule); the wrong usage (`spec`: the key's, {@link kmsSpecOf}) or, for an operation of
 * symmetric keys only (`keySpec`), another key spec → InvalidKeyUsageException; a derived key
 * is not served.
 */
export function assertUsable(
  view: TransitKeyView,
  spec: KmsSpec | undefined,
  usage: KmsSpec['keyUsage'],
  mode: 'encrypt' | 'decrypt',
  nowMs: number,
  keySpec?: 'SYMMETRIC_DEFAULT' | 'RSA',
): void {
  const { policy } = view;
  const state = effectiveState(policy.state, policy.expires_at, nowMs);
  if (state === 'pending_deletion') throw kmsInvalidState(`key ${policy.name} is pending deletion`);
  const revokedButReadable =
    state === 'revoked' && mode === 'decrypt' && policy.decrypt_after_revocation;
  if (state !== 'active' && state !== 'rotating' && !revokedButReadable)
    throw kmsDisabled(`key ${policy.name} is disabled (${state})`);
  if (keySpec === 'SYMMETRIC_DEFAULT' && spec?.keySpec !== keySpec)
    throw kmsInvalidKeyUsage(
      `key ${policy.name} (${spec?.keySpec ?? policy.type}) is not a symmetric key: this operation takes a SYMMETRIC_DEFAULT key`,
    );
  if (spec?.keyUsage !== usage)
    throw kmsInvalidKeyUsage(`key ${policy.name} (${policy.type}) is not a ${usage} key`);
  if (keySpec === 'RSA' && !spec.keySpec.startsWith('RSA_'))
    throw kmsInvalidKeyUsage(
      `key ${policy.name} (${spec.keySpec}) is not an RSA key: RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 take an RSA key`,
    );
  if (policy.derived)
    throw kmsUnsupported(
      `key ${policy.name} is a derived transit key: the KMS API serves keys without derivation`,
    );
}

/** The key's view, or NotFoundException. */
export async function viewOf(deps: KmsDeps, name: string, needed: readonly number[] = []) {
  try {
    return await deps.transit.view(name, needed);
  } catch (err) {
    throw kmsErrorOf(err);
  }
}

/**
 * Runs a key operation and records it in the key's usage log (once, success or failure; a
 * failure only for a key that exists, as transit does).
 */
export async function used<T>(
  call: KmsCall,
  name: string,
  operation: string,
  run: () => Promise<{ result: T; version?: number }>,
): Promise<T> {
  const entry = (success: boolean, version?: number) => ({
    operation,
    success,
    ...(version === undefined ? {} : { version }),
    display_name: call.displayName,
    request_id: call.requestId,
  });
  try {
    const { result, version } = await run();
    call.deps.usage.record(name, entry(true, version));
    return result;
  } catch (err) {
    if (await call.deps.transit.exists(name).catch(() => false))
      call.deps.usage.record(name, entry(false));
    throw kmsErrorOf(err);
  }
}

/** What the KMS API keeps of a key, if it was kept for this key (not an earlier one of its name). */
export async function keyEntryOf(deps: KmsDeps, policy: TransitKeyPolicy): Promise<KmsKeyEntry> {
  const entry = await deps.store.keyEntry(policy.name);
  return entry.keyCreated === policy.created_time ? entry : {};
}

/** DescribeKey's `KeyMetadata`. */
export async function keyMetadata(deps: KmsDeps, policy: TransitKeyPolicy) {
  const { site } = deps;
  const nowMs = deps.now();
  const entry = await keyEntryOf(deps, policy);
  const spec = specOf(policy.type, entry.keyUsage);
  const state = awsStateOf(policy, nowMs);
  return {
    AWSAccountId: site.accountId,
    KeyId: policy.name,
    Arn: keyArnOf(site, policy.name),
    CreationDate: Date.parse(policy.created_time) / 1000,
    Enabled: state === 'Enabled',
    Description: entry.description ?? '',
    KeyUsage: spec?.keyUsage ?? 'ENCRYPT_DECRYPT',
    KeyState: state,
    ...(state === 'PendingDeletion' && entry.deletionDate !== undefined
      ? { DeletionDate: entry.deletionDate }
      : {}),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: spec?.keySpec ?? policy.type,
    KeySpec: spec?.keySpec ?? policy.type,
    ...(spec?.encryptionAlgorithms === undefined
      ? {}
      : { EncryptionAlgorithms: [...spec.encryptionAlgorithms] }),
    ...(spec?.signingAlgorithms === undefined
      ? {}
      : { SigningAlgorithms: [...spec.signingAlgorithms] }),
    MultiRegion: false,
  };
}

/** CreateKey: a transit key named by a fresh UUID (the key id), with the KMS entry beside it. */
export async function createKey(
  deps: KmsDeps,
  input: {
    type: TransitKeyType;
    keyUsage: KmsKeyUsage;
    description: string | undefined;
    tags: KmsKeyEntry['tags'];
  },
) {
  const name = randomUUID();
  try {
    await deps.transit.createKey(name, { type: input.type });
  } catch (err) {
    throw kmsErrorOf(err);
  }
  const described = await deps.transit.describe(name);
  if (described === undefined) throw kmsNotFound('the key was deleted as it was created');
  await deps.store.setKeyEntry(name, {
    keyCreated: described.policy.created_time,
    // Kept for RSA keys, the one type that may have either usage.
    ...(isRsa(input.type) ? { keyUsage: input.keyUsage } : {}),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.tags === undefined ? {} : { tags: input.tags }),
  });
  return { KeyMetadata: await keyMetadata(deps, described.policy) };
}
