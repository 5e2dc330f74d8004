import { randomBytes } from 'node:crypto';
import { withCanonicalDataClass } from '../classification/data-class.js';
import { CustosError } from '../errors/index.js';
import { assertTransition, canEncrypt, effectiveState, type KeyState } from './key-lifecycle.js';
import { type KeyMaterial, newKeyMaterial, versionKeyName } from './key-material.js';
import {
  defaultPurpose,
  isKeyPurpose,
  isTransitKeyType,
  type KeyPurpose,
  keyTypeSupport,
  purposesOf,
  TRANSIT_KEY_TYPES,
  type TransitKeyType,
} from './key-types.js';

/** Rotate well before random 96-bit nonces reach their 2^32 limit (NIST SP 800-38D). */
export const DEFAULT_ROTATE_AFTER_ENCRYPTIONS = 2 ** 30;
/** The shortest `auto_rotate_period` (seconds), as in Vault. */
export const MIN_AUTO_ROTATE_SECONDS = 3600;

/** A key's settings and bookkeeping: everything but key material (Vault's field names). */
export interface TransitKeyPolicy {
  readonly name: string;
  readonly type: TransitKeyType;
  readonly purpose: KeyPurpose;
  readonly derived: boolean;
  readonly convergent_encryption: boolean;
  exportable: boolean;
  allow_plaintext_backup: boolean;
  deletion_allowed: boolean;
  /** Seconds; 0 = never. */
  auto_rotate_period: number;
  min_decryption_version: number;
  /** 0 = always the latest. */
  min_encryption_version: number;
  min_available_version: number;
  latest_version: number;
  state: KeyState;
  /**
   * When the key was first revoked; null if never. Set once, never cleared: revocation is final
   * (a revoked key's deletion is cancelled back to `revoked`, its settings are fixed). Absent
   * from policies stored before it existed, read as null.
   */
  revoked_time: string | null;
  expires_at: string | null;
  decrypt_after_revocation: boolean;
  rotate_after_encryptions: number;
  readonly created_time: string;
  updated_time: string;
  /**
   * Whether the key's first version was imported (BYOK, `keys/:name/import`). Absent from
   * policies stored before imports existed, read as false.
   */
  readonly imported_key?: boolean;
  /**
   * An imported key only: whether custos may add versions of its own making (`rotate`, rotation
   * by age or count). Without it only `import_version` adds versions.
   */
  readonly allow_rotation?: boolean;
  /**
   * Beyond Vault: labels of the operator's choosing, as KV's `custom_metadata` (a `data_class`
   * classifies the data the key protects, docs/classification.md). Absent: none.
   */
  custom_metadata?: Record<string, string>;
}

/** One version's key material (base64), stored apart from the policy. */
export interface TransitKeyVersion {
  readonly version: number;
  readonly created_time: string;
  /** Encryption key: 32 bytes (aes256-gcm96, chacha20-poly1305), 16 (aes128-gcm96). */
  readonly key?: string;
  /** 32-byte HMAC key (every type; the only key of `hmac` keys). */
  readonly hmac_key: string;
  /** PKCS#8 DER (ed25519, ecdsa-p256/p384/p521, rsa-2048/3072/4096). */
  readonly private_key?: string;
  /** Vault's public form: raw base64 for ed25519, PEM (SPKI) for ECDSA and RSA. */
  readonly public_key?: string;
  /** Encryptions made (or reserved) with this version. */
  encryptions: number;
}

/**
 * Options for a new key (`LocalKms.createKey`, `POST transit/keys/:name` on the server).
 *
 * @example
 * ```ts
 * const options: CreateTransitKeyOptions = { derived: true, autoRotatePeriodSeconds: 30 * 86400 };
 * kms.createKey('orders', options);
 * ```
 */
export interface CreateTransitKeyOptions {
  readonly type?: TransitKeyType;
  readonly purpose?: KeyPurpose;
  readonly derived?: boolean;
  readonly convergentEncryption?: boolean;
  readonly exportable?: boolean;
  readonly allowPlaintextBackup?: boolean;
  readonly autoRotatePeriodSeconds?: number;
  readonly expiresAt?: string | null;
  readonly decryptAfterRevocation?: boolean;
  readonly rotateAfterEncryptions?: number;
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function invalid(message: string): CustosError {
  return new CustosError('ERR_INVALID_ARGUMENT', message);
}

/** Checks a transit key name. */
export function validateKeyName(name: unknown): string {
  if (typeof name !== 'string' || !KEY_NAME.test(name)) {
    throw invalid(
      'key names are 1-128 characters of A-Z a-z 0-9 . _ - and start with a letter or digit',
    );
  }
  return name;
}

/**
 * Creates one version: `material` when it was made ahead (`newKeyMaterialAsync`, for a server
 * that must not block), else new material now.
 */
export function createKeyVersion(
  type: TransitKeyType,
  version: number,
  now: Date,
  material: KeyMaterial = newKeyMaterial(type),
): TransitKeyVersion {
  return {
    version,
    created_time: now.toISOString(),
    hmac_key: randomBytes(32).toString('base64'),
    encryptions: 0,
    ...material,
  };
}

/** Validates creation options and returns the new key's policy (latest version 1). */
export function createKeyPolicy(
  name: string,
  options: CreateTransitKeyOptions,
  now: Date,
): TransitKeyPolicy {
  validateKeyName(name);
  const type = options.type ?? 'aes256-gcm96';
  if (!isTransitKeyType(type))
    throw invalid(`unknown key type; use one of ${TRANSIT_KEY_TYPES.join(', ')}`);
  const purpose = options.purpose ?? defaultPurpose(type);
  if (!isKeyPurpose(purpose) || !purposesOf[type].includes(purpose)) {
    throw invalid(`a ${type} key can serve ${purposesOf[type].join(', ')} only`);
  }
  const derived = options.derived ?? false;
  if (derived && !keyTypeSupport[type].derivation)
    throw invalid(`key derivation is not supported for ${type} keys`);
  const convergent = options.convergentEncryption ?? false;
  if (convergent && !derived)
    throw invalid('convergent encryption requires derivation to be enabled');
  const period = validateAutoRotate(options.autoRotatePeriodSeconds ?? 0);
  const rotateAfter = options.rotateAfterEncryptions ?? DEFAULT_ROTATE_AFTER_ENCRYPTIONS;
  if (!Number.isSafeInteger(rotateAfter) || rotateAfter < 1 || rotateAfter > 2 ** 32) {
    throw invalid('rotate_after_encryptions must be an integer from 1 to 2^32');
  }
  const expiresAt = options.expiresAt ?? null;
  if (expiresAt !== null && Number.isNaN(Date.parse(expiresAt)))
    throw invalid('expires_at must be an ISO 8601 time');
  const time = now.toISOString();
  return {
    name,
    type,
    purpose,
    derived,
    convergent_encryption: convergent,
    exportable: options.exportable ?? false,
    allow_plaintext_backup: options.allowPlaintextBackup ?? false,
    deletion_allowed: false,
    auto_rotate_period: period,
    min_decryption_version: 1,
    min_encryption_version: 0,
    min_available_version: 0,
    latest_version: 1,
    state: 'active',
    revoked_time: null,
    expires_at: expiresAt,
    decrypt_after_revocation: options.decryptAfterRevocation ?? false,
    rotate_after_encryptions: rotateAfter,
    created_time: time,
    updated_time: time,
  };
}

function validateAutoRotate(seconds: number): number {
  if (
    !Number.isInteger(seconds) ||
    seconds < 0 ||
    (seconds > 0 && seconds < MIN_AUTO_ROTATE_SECONDS)
  ) {
    throw invalid('auto_rotate_period must be 0 (disabled) or at least 1h');
  }
  return seconds;
}

/**
 * Changes accepted by `LocalKms.configure` (`transit/keys/:name/config` on the server).
 *
 * @example
 * ```ts
 * kms.configure('orders', { minDecryptionVersion: 3 } satisfies TransitKeyConfigChange);
 * ```
 */
export interface TransitKeyConfigChange {
  readonly minDecryptionVersion?: number;
  readonly minEncryptionVersion?: number;
  readonly deletionAllowed?: boolean;
  readonly exportable?: boolean;
  readonly allowPlaintextBackup?: boolean;
  readonly autoRotatePeriodSeconds?: number;
  readonly expiresAt?: string | null;
  readonly decryptAfterRevocation?: boolean;
  readonly rotateAfterEncryptions?: number;
  /** Merged into `custom_metadata`: a `null` removes a label; `data_class` is checked. */
  readonly customMetadata?: Readonly<Record<string, string | null>>;
}

/** Whether two `expires_at` values name the same time (or are both null). */
export const sameTime = (a: string | null, b: string | null) =>
  a === b || (a !== null && b !== null && Date.parse(a) === Date.parse(b));

/**
 * Whether the key was ever revoked (it is revoked, or pending deletion after a revocation).
 *
 * @example
 * ```ts
 * if (wasRevoked(policy)) throw new CustosError('ERR_INVALID_KEY_STATE', 'revocation is final');
 * ```
 */
export function wasRevoked(policy: TransitKeyPolicy): boolean {
  return policy.state === 'revoked' || (policy.revoked_time ?? null) !== null;
}

/** Settings a revoked key keeps for good: all but `deletion_allowed` (so it can be deleted). */
const FIXED_AFTER_REVOCATION = [
  'min_decryption_version',
  'min_encryption_version',
  'exportable',
  'allow_plaintext_backup',
  'auto_rotate_period',
  'expires_at',
  'decrypt_after_revocation',
  'rotate_after_encryptions',
] as const;

/**
 * Refuses a change to a revoked key's settings: `decrypt_after_revocation` switched on (or a
 * lower `min_decryption_version`) would reopen what the revocation closed, and the flags for
 * export and backup would prepare its material to leave. Setting a value it already has is no
 * change and passes.
 */
function assertRevocationKept(policy: TransitKeyPolicy, next: TransitKeyPolicy): void {
  if (!wasRevoked(policy)) return;
  const changed = FIXED_AFTER_REVOCATION.filter((field) =>
    field === 'expires_at'
      ? !sameTime(policy.expires_at, next.expires_at)
      : policy[field] !== next[field],
  );
  if (changed.length > 0) {
    throw new CustosError(
      'ERR_INVALID_KEY_STATE',
      `key ${policy.name} was revoked: ${changed.join(', ')} cannot change (a revoked key's settings are fixed; only deletion_allowed may change)`,
    );
  }
}

/** Applies a configuration change with Vault's rules; returns the changed policy. */
export function configureKey(
  policy: TransitKeyPolicy,
  change: TransitKeyConfigChange,
  now: Date,
): TransitKeyPolicy {
  const next: TransitKeyPolicy = { ...policy, updated_time: now.toISOString() };
  if (change.minDecryptionVersion !== undefined) {
    const v = change.minDecryptionVersion;
    if (!Number.isInteger(v) || v < 0 || v > policy.latest_version) {
      throw invalid('min_decryption_version cannot be larger than the latest version');
    }
    if (v > 0 && v < policy.min_available_version) {
      throw invalid(
        'min_decryption_version cannot be below min_available_version (those versions were trimmed)',
      );
    }
    next.min_decryption_version = v === 0 ? 1 : v;
  }
  if (change.minEncryptionVersion !== undefined) {
    const v = change.minEncryptionVersion;
    if (!Number.isInteger(v) || v < 0 || v > policy.latest_version) {
      throw invalid('min_encryption_version cannot be larger than the latest version');
    }
    next.min_encryption_version = v;
  }
  if (
    next.min_encryption_version > 0 &&
    next.min_encryption_version < next.min_decryption_version
  ) {
    throw invalid('min_encryption_version must be 0 or at least min_decryption_version');
  }
  if (change.deletionAllowed !== undefined) next.deletion_allowed = change.deletionAllowed;
  if (change.exportable !== undefined) {
    if (policy.exportable && !change.exportable)
      throw invalid('exportability cannot be disabled after enabling');
    next.exportable = change.exportable;
  }
  if (change.allowPlaintextBackup !== undefined) {
    if (policy.allow_plaintext_backup && !change.allowPlaintextBackup) {
      throw invalid('plaintext backup cannot be disabled after enabling');
    }
    next.allow_plaintext_backup = change.allowPlaintextBackup;
  }
  if (change.autoRotatePeriodSeconds !== undefined) {
    next.auto_rotate_period = validateAutoRotate(change.autoRotatePeriodSeconds);
    if (next.auto_rotate_period > 0 && !rotatesItself(policy))
      throw invalid('auto_rotate_period needs allow_rotation on an imported key');
  }
  if (change.expiresAt !== undefined && !sameTime(change.expiresAt, policy.expires_at)) {
    if (change.expiresAt !== null && Number.isNaN(Date.parse(change.expiresAt)))
      throw invalid('expires_at must be an ISO 8601 time');
    // Expiry is final: moving or clearing a passed expires_at would revive the key.
    if (policy.expires_at !== null && Date.parse(policy.expires_at) <= now.getTime()) {
      throw new CustosError(
        'ERR_INVALID_KEY_STATE',
        `key ${policy.name} expired at ${policy.expires_at}: its expires_at cannot change (an expired key only leaves to pending_deletion)`,
      );
    }
    next.expires_at = change.expiresAt;
  }
  if (change.decryptAfterRevocation !== undefined)
    next.decrypt_after_revocation = change.decryptAfterRevocation;
  if (change.rotateAfterEncryptions !== undefined) {
    const n = change.rotateAfterEncryptions;
    if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 32)
      throw invalid('rotate_after_encryptions must be an integer from 1 to 2^32');
    next.rotate_after_encryptions = n;
  }
  if (change.customMetadata !== undefined) {
    const merged = mergeLabels(policy.custom_metadata, change.customMetadata);
    if (merged === undefined) delete next.custom_metadata;
    else next.custom_metadata = merged;
  }
  assertRevocationKept(policy, next);
  return next;
}

/** `stored` with `change` merged in (`null` removes); undefined when no label is left. */
function mergeLabels(
  stored: Readonly<Record<string, string>> | undefined,
  change: Readonly<Record<string, string | null>>,
): Record<string, string> | undefined {
  const merged = new Map(Object.entries(stored ?? {}));
  for (const [key, value] of Object.entries(withCanonicalDataClass(change))) {
    if (value === null) merged.delete(key);
    else if (typeof value === 'string') merged.set(key, value);
    else throw invalid(`custom_metadata: the value for key "${key.slice(0, 64)}" must be a string`);
  }
  return merged.size === 0 ? undefined : Object.fromEntries(merged);
}

/**
 * Moves a key to `state`, checked against the state in force at `now` (an expired key is
 * `expired` whatever was stored); throws `ERR_INVALID_KEY_STATE` for an illegal move.
 *
 * @example
 * ```ts
 * policy = changeState(policy, 'revoked', new Date());
 * ```
 */
export function changeState(
  policy: TransitKeyPolicy,
  state: KeyState,
  now: Date,
): TransitKeyPolicy {
  const revoked = wasRevoked(policy);
  assertTransition(effectiveState(policy.state, policy.expires_at, now.getTime()), state, revoked);
  const time = now.toISOString();
  return {
    ...policy,
    state,
    // A key revoked before revoked_time existed keeps its revocation (dated by its last update).
    revoked_time: revoked
      ? (policy.revoked_time ?? policy.updated_time)
      : state === 'revoked'
        ? time
        : null,
    updated_time: time,
  };
}

/**
 * Whether custos may make new versions of the key itself: always, but for an imported key
 * created without `allow_rotation` (its versions come from outside, by `import_version`).
 *
 * @example
 * ```ts
 * if (!rotatesItself(policy)) return; // no rotation by age or count
 * ```
 */
export function rotatesItself(policy: TransitKeyPolicy): boolean {
  return policy.imported_key !== true || policy.allow_rotation === true;
}

/**
 * Refuses a new version for a key that was revoked (`ERR_INVALID_KEY_STATE`): its material is
 * recorded as revoked when it is revoked, and nothing could use a new version anyway.
 *
 * @example
 * ```ts
 * assertRotatable(policy);
 * ```
 */
export function assertRotatable(policy: TransitKeyPolicy): void {
  if (!rotatesItself(policy))
    throw invalid(
      `imported key ${policy.name} does not allow rotation within custos (allow_rotation is false): add versions with import_version`,
    );
  if (wasRevoked(policy))
    throw new CustosError(
      'ERR_INVALID_KEY_STATE',
      `key ${policy.name} was revoked: it gains no new versions`,
    );
}

/**
 * Plans `trim`: the versions below `minAvailableVersion` to delete. Refused unless
 * `minAvailableVersion` is at most both minimum versions, and never lowered: trimmed versions
 * are gone, so a lower floor would only claim they exist (as in Vault).
 */
export function planTrim(policy: TransitKeyPolicy, minAvailableVersion: number): number[] {
  if (!Number.isInteger(minAvailableVersion) || minAvailableVersion < 1) {
    throw invalid('min_available_version must be 1 or more');
  }
  if (minAvailableVersion < policy.min_available_version) {
    throw invalid('minimum available version cannot be decremented');
  }
  if (minAvailableVersion > policy.min_decryption_version) {
    throw invalid('cannot set min_available_version higher than min_decryption_version');
  }
  if (policy.min_encryption_version > 0 && minAvailableVersion > policy.min_encryption_version) {
    throw invalid('cannot set min_available_version higher than min_encryption_version');
  }
  const from = Math.max(1, policy.min_available_version);
  return Array.from({ length: Math.max(0, minAvailableVersion - from) }, (_, i) => from + i);
}

/**
 * The error for an encryption with a version that has made `rotate_after_encryptions`
 * encryptions: only the latest version is rotated out automatically, so an explicit older
 * `key_version` at its limit is refused rather than used past it.
 *
 * @example
 * ```ts
 * if (used.encryptions >= policy.rotate_after_encryptions) throw versionExhausted(policy, 1);
 * ```
 */
export function versionExhausted(policy: TransitKeyPolicy, version: number): CustosError {
  return new CustosError(
    'ERR_KEY_EXHAUSTED',
    `version ${version} of key ${policy.name} reached its limit of ${policy.rotate_after_encryptions} encryptions (rotate_after_encryptions); encrypt with a newer version`,
  );
}

/**
 * Whether the latest version is due for rotation by age (`auto_rotate_period`). A key that
 * cannot encrypt now (inactive, revoked, expired, pending deletion) is never due: rotating it
 * would only add versions nothing uses, and a revived key is checked again on its next use.
 *
 * @example
 * ```ts
 * if (rotationDueByAge(policy, latest, Date.now())) rotate();
 * ```
 */
export function rotationDueByAge(
  policy: TransitKeyPolicy,
  latest: TransitKeyVersion,
  nowMs: number,
): boolean {
  return (
    canEncrypt(effectiveState(policy.state, policy.expires_at, nowMs)) &&
    rotatesItself(policy) &&
    policy.auto_rotate_period > 0 &&
    Date.parse(latest.created_time) + policy.auto_rotate_period * 1000 <= nowMs
  );
}

/**
 * Whether the latest version is due for rotation, by age or because its count reached
 * `rotate_after_encryptions` (the count the server stores is of reserved slots, so a node
 * holding unused slots checks by age and lets its reservation run out first).
 */
export function rotationDue(
  policy: TransitKeyPolicy,
  latest: TransitKeyVersion,
  nowMs: number,
): boolean {
  if (rotationDueByAge(policy, latest, nowMs)) return true;
  return (
    canEncrypt(effectiveState(policy.state, policy.expires_at, nowMs)) &&
    rotatesItself(policy) &&
    keyTypeSupport[policy.type].encryption &&
    latest.encryptions >= policy.rotate_after_encryptions
  );
}

/**
 * The key as Vault's `GET transit/keys/:name` returns it (plus custos's lifecycle fields): `keys`
 * holds the versions from `min_decryption_version` on, `encryptions` every version still held.
 */
export function describeKey(
  policy: TransitKeyPolicy,
  versions: readonly TransitKeyVersion[],
  nowMs: number,
): Record<string, unknown> {
  const support = keyTypeSupport[policy.type];
  const keys: Record<string, unknown> = {};
  // As Vault: `keys` lists the versions that still decrypt (and verify); a public key of a
  // version below min_decryption_version is no longer handed out, here or by export.
  for (const v of versions) {
    if (v.version < policy.min_decryption_version) continue;
    keys[String(v.version)] = support.signing
      ? {
          creation_time: v.created_time,
          name: versionKeyName(policy.type),
          public_key: v.public_key,
        }
      : Math.floor(Date.parse(v.created_time) / 1000);
  }
  return {
    name: policy.name,
    type: policy.type,
    derived: policy.derived,
    ...(policy.derived
      ? {
          kdf: 'hkdf_sha256',
          convergent_encryption: policy.convergent_encryption,
          convergent_encryption_version: policy.convergent_encryption ? 3 : 0,
        }
      : {}),
    exportable: policy.exportable,
    allow_plaintext_backup: policy.allow_plaintext_backup,
    deletion_allowed: policy.deletion_allowed,
    auto_rotate_period: policy.auto_rotate_period,
    keys,
    latest_version: policy.latest_version,
    min_available_version: policy.min_available_version,
    min_decryption_version: policy.min_decryption_version,
    min_encryption_version: policy.min_encryption_version,
    supports_encryption: support.encryption,
    supports_decryption: support.encryption,
    supports_derivation: support.derivation,
    supports_signing: support.signing,
    imported_key: policy.imported_key === true,
    // As Vault: only on imported keys.
    ...(policy.imported_key === true
      ? { imported_key_allow_rotation: policy.allow_rotation === true }
      : {}),
    // Beyond Vault: the lifecycle (seed 001).
    purpose: policy.purpose,
    state: effectiveState(policy.state, policy.expires_at, nowMs),
    revoked_time: policy.revoked_time ?? null,
    expires_at: policy.expires_at,
    decrypt_after_revocation: policy.decrypt_after_revocation,
    rotate_after_encryptions: policy.rotate_after_encryptions,
    encryptions: Object.fromEntries(versions.map((v) => [String(v.version), v.encryptions])),
    custom_metadata: policy.custom_metadata ?? null,
  };
}
