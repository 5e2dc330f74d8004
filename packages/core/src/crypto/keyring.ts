import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { CustosError, DecryptionFailed, KeyDisabled, KeyNotFound } from '../errors/index.js';
import { type BytesLike, toBuffer } from '../lib/bytes.js';
import { noncePool } from '../lib/random-pool.js';
import type { MetricsHooks } from '../metrics/hooks.js';
import {
  type AeadAlgorithm,
  type AeadKey,
  aeadParameters,
  createAeadKey,
  isAeadAlgorithm,
  open,
  sealParts,
} from './aead.js';
import { type AssociatedData, encodeAssociatedData } from './associated-data.js';
import {
  buildEnvelopeHeader,
  ENVELOPE_HEADER_LENGTH,
  envelopeToText,
  KEY_ID_LENGTH,
  readEnvelope,
} from './envelope.js';
import { DerivedKeyCache } from './hkdf.js';

/** State of one key version. See `NOTES.md` for the allowed transitions. */
export type KeyVersionState = 'enabled' | 'decrypt-only' | 'disabled' | 'destroyed';

/**
 * NIST SP 800-38D §8.3: with random 96-bit nonces, one key may be used for at most 2^32
 * encryptions. Applies to AES-GCM and, by the same birthday bound, ChaCha20-Poly1305.
 *
 * @example
 * ```ts
 * keyring.createKey('fields', { encryptionLimit: RANDOM_NONCE_ENCRYPTION_LIMIT / 4 });
 * ```
 */
export const RANDOM_NONCE_ENCRYPTION_LIMIT = 2 ** 32;

/** Public, non-secret facts about one key version. */
export interface KeyVersionInfo {
  readonly version: number;
  readonly state: KeyVersionState;
  readonly createdAt: string;
  /** Encryptions made with this version (persisted count plus this process's). */
  readonly encryptions: number;
}

/** Public, non-secret facts about one named key. */
export interface KeyInfo {
  readonly name: string;
  /** Random 8-byte id as 16 hex characters; never derived from key material. */
  readonly id: string;
  readonly algorithm: AeadAlgorithm;
  readonly primaryVersion: number;
  readonly minDecryptionVersion: number;
  /** Encryptions allowed per version; `null` when the algorithm needs no limit. */
  readonly encryptionLimit: number | null;
  /** True once the primary version has used `rotateAfterFraction` of its limit. */
  readonly rotationDue: boolean;
  readonly versions: readonly KeyVersionInfo[];
}

/** Options for {@link Keyring.createKey}. */
export interface CreateKeyOptions {
  /** Default `aes-256-gcm`. Use `aes-256-gcm-siv` for deterministic (searchable) encryption. */
  readonly algorithm?: AeadAlgorithm;
  /** Encryptions per version before encrypting is refused. Default 2^32 for random nonces. */
  readonly encryptionLimit?: number;
  /** Import this 32-byte material as version 1 instead of generating it. */
  readonly material?: Uint8Array;
  /**
   * Use this key id (16 lowercase hex characters) instead of a random one, for a key whose
   * identity is fixed elsewhere (a data key unwrapped from a KMS, identified by its wrapped
   * form). Never derive it from the key material. Must be unique within the keyring.
   */
  readonly id?: string;
}

/** Options for encrypt and decrypt. */
export interface CryptOptions {
  /** Bound to the ciphertext, required again to decrypt; never stored. */
  readonly aad?: AssociatedData;
  /**
   * Derives a separate key for this context with HKDF-SHA256 (as Vault's derived keys do):
   * per tenant, per column. Required again to decrypt.
   */
  readonly keyContext?: BytesLike;
}

/** Options for {@link Keyring.encrypt}. */
export interface EncryptOptions extends CryptOptions {
  /**
   * Encrypt with this version instead of the primary. Only for deterministic keys
   * (`aes-256-gcm-siv`), to compute equality-search candidates under every version that still
   * decrypts; the version must be enabled or decrypt-only and at or above the minimum
   * decryption version.
   */
  readonly version?: number;
}

/** Options for {@link Keyring.deriveKey}. */
export interface DeriveKeyOptions {
  /** Derive from this version (default: the primary). It must be able to decrypt. */
  readonly version?: number;
}

/** A key derived from one key version for another primitive (for example HMAC). */
export interface DerivedKey {
  /** Id of the named key it comes from (16 hex characters). */
  readonly keyId: string;
  /** The version it was derived from. */
  readonly keyVersion: number;
  /** The derived 32-byte key, held outside the JS heap. */
  readonly key: KeyObject;
}

/** Options for {@link Keyring} construction. */
export interface KeyringOptions {
  /** Clock used for `createdAt`; default `() => new Date()`. */
  readonly now?: () => Date;
  /**
   * Fraction of the encryption limit after which `rotationDue` turns true and
   * `onRotationDue` fires (once per version). Default 0.5.
   */
  readonly rotateAfterFraction?: number;
  /** Called once when a primary version crosses the rotation threshold. */
  readonly onRotationDue?: (key: KeyInfo) => void;
  /** Counts rotations (`rotate`) as `keyring_key` (`@custos/core/metrics`); default none. */
  readonly metrics?: MetricsHooks;
}

/** @internal the mutable record behind one key version. */
export interface VersionRecord {
  readonly version: number;
  state: KeyVersionState;
  readonly createdAt: string;
  encryptions: number;
  /** Cleared when destroyed. */
  material: Buffer | undefined;
  aeadKey: AeadKey | undefined;
  readonly header: Buffer;
}

/** @internal the mutable record behind one named key. */
export interface KeyRecord {
  readonly name: string;
  readonly id: Buffer;
  readonly idHex: string;
  readonly algorithm: AeadAlgorithm;
  readonly encryptionLimit: number | null;
  primaryVersion: number;
  minDecryptionVersion: number;
  readonly versions: Map<number, VersionRecord>;
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** What {@link isKeyName} accepts, for error messages. */
export const KEY_NAME_RULE =
  'key names are 1-128 characters of A-Z a-z 0-9 . _ - and start with a letter or digit';
const MAX_VERSION = 0xffffffff;
const CONTEXT_INFO_PREFIX = 'custos/keyring/v1/key-context/';
/** Zeroes the JS copy of a key's bytes that SIV keys hold (the KeyObject is outside the heap). */
function wipeAeadKey(key: AeadKey): void {
  key.raw?.fill(0);
}

// A different prefix from key contexts, so a derived key never equals an AEAD key.
const DERIVED_KEY_INFO_PREFIX = 'custos/keyring/v1/derived-key/';
const KEY_ID_HEX = /^[0-9a-f]{16}$/;

const allowedTransitions: Readonly<Record<KeyVersionState, readonly KeyVersionState[]>> = {
  enabled: ['decrypt-only', 'disabled', 'destroyed'],
  'decrypt-only': ['enabled', 'disabled', 'destroyed'],
  disabled: ['enabled', 'decrypt-only', 'destroyed'],
  destroyed: [],
};

/**
 * Named symmetric keys with versions. Each key has a random id, a primary version that
 * encrypts, older versions that decrypt until disabled, destroyed or placed below
 * `minDecryptionVersion`, and per-version encryption counters. Every ciphertext is a
 * self-describing envelope (see `FORMAT.md`) naming the key id and version that made it.
 *
 * Serialise with `serializeKeyring`, load with `loadKeyring`. `JSON.stringify(keyring)` and
 * `console.log(keyring)` print only public facts, never key material.
 *
 * @example
 * ```ts
 * const keyring = new Keyring();
 * keyring.createKey('fields');
 * const ct = keyring.encryptToString('fields', 'Jane Doe', { aad: { table: 'patients', row: 7 } });
 * keyring.rotate('fields');
 * keyring.decrypt(ct, { aad: { table: 'patients', row: 7 } }).toString(); // 'Jane Doe'
 * ```
 */
export class Keyring {
  readonly #byName = new Map<string, KeyRecord>();
  readonly #byId = new Map<bigint, KeyRecord>();
  /** Context keys; an evicted SIV key's JS copy of its bytes is wiped. */
  readonly #derived = new DerivedKeyCache<AeadKey>(1024, wipeAeadKey);
  readonly #derivedKeys = new DerivedKeyCache<KeyObject>(1024);
  readonly #now: () => Date;
  readonly #rotateAfterFraction: number;
  readonly #metrics: MetricsHooks | undefined;
  readonly #onRotationDue: ((key: KeyInfo) => void) | undefined;
  readonly #rotationNotified = new WeakSet<VersionRecord>();

  constructor(options: KeyringOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    const fraction = options.rotateAfterFraction ?? 0.5;
    if (!(fraction > 0 && fraction <= 1)) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'rotateAfterFraction must be in (0, 1]');
    }
    this.#rotateAfterFraction = fraction;
    this.#metrics = options.metrics;
    this.#onRotationDue = options.onRotationDue;
  }

  /** Names of all keys, in creation order. */
  keyNames(): string[] {
    return [...this.#byName.keys()];
  }

  /** Whether a key with this name exists. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Public facts about a key. Throws `ERR_KEY_NOT_FOUND`. */
  info(name: string): KeyInfo {
    return this.#describe(this.#key(name));
  }

  /**
   * Creates a named key with a fresh random id and version 1 as primary.
   * Throws `ERR_KEY_EXISTS` if the name is taken.
   */
  createKey(name: string, options: CreateKeyOptions = {}): KeyInfo {
    if (!isKeyName(name)) throw new CustosError('ERR_INVALID_ARGUMENT', KEY_NAME_RULE);
    if (this.#byName.has(name)) throw new CustosError('ERR_KEY_EXISTS', `key "${name}" exists`);
    const algorithm = options.algorithm ?? 'aes-256-gcm';
    if (!isAeadAlgorithm(algorithm)) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'unknown algorithm');
    }
    const limit = defaultLimit(algorithm, options.encryptionLimit);
    let id = randomBytes(KEY_ID_LENGTH);
    while (this.#byId.has(idOf(id, 0))) id = randomBytes(KEY_ID_LENGTH);
    if (options.id !== undefined) {
      if (!KEY_ID_HEX.test(options.id)) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'key id must be 16 lowercase hex characters');
      }
      if (this.#byId.has(BigInt(`0x${options.id}`))) {
        throw new CustosError('ERR_KEY_EXISTS', `key id ${options.id} is already used`);
      }
      id = Buffer.from(options.id, 'hex');
    }
    const record: KeyRecord = {
      name,
      id,
      idHex: id.toString('hex'),
      algorithm,
      encryptionLimit: limit,
      primaryVersion: 1,
      minDecryptionVersion: 1,
      versions: new Map(),
    };
    const material = options.material ? Buffer.from(options.material) : randomBytes(32);
    this.#addVersion(record, 1, 'enabled', this.#now().toISOString(), 0, material);
    this.#register(record);
    return this.#describe(record);
  }

  /** Adds a new version, makes it primary, and returns its number. Older versions still decrypt. */
  rotate(name: string): number {
    const key = this.#key(name);
    const next = Math.max(...key.versions.keys()) + 1;
    if (next > MAX_VERSION)
      throw new CustosError('ERR_INVALID_ARGUMENT', 'version space exhausted');
    this.#addVersion(key, next, 'enabled', this.#now().toISOString(), 0, randomBytes(32));
    key.primaryVersion = next;
    this.#metrics?.rotation('keyring_key');
    return next;
  }

  /** Makes an existing enabled version the primary (for example to roll back a rotation). */
  setPrimary(name: string, version: number): void {
    const key = this.#key(name);
    const record = this.#version(key, version);
    if (record.state !== 'enabled' || version < key.minDecryptionVersion) {
      throw new CustosError(
        'ERR_INVALID_KEY_STATE',
        `version ${version} of "${name}" must be enabled and at or above the minimum decryption version to be primary`,
      );
    }
    key.primaryVersion = version;
  }

  /**
   * Changes a version's state. The primary stays enabled (rotate or set another primary first);
   * `destroyed` is final and erases the material.
   */
  setState(name: string, version: number, state: KeyVersionState): void {
    const key = this.#key(name);
    const record = this.#version(key, version);
    if (record.state === state) return;
    if (!allowedTransitions[record.state].includes(state)) {
      throw new CustosError(
        'ERR_INVALID_KEY_STATE',
        `version ${version} of "${name}" cannot go from ${record.state} to ${state}`,
      );
    }
    if (version === key.primaryVersion) {
      throw new CustosError(
        'ERR_INVALID_KEY_STATE',
        `version ${version} is the primary of "${name}"; rotate or set another primary first`,
      );
    }
    record.state = state;
    if (state === 'destroyed') {
      record.material?.fill(0);
      record.material = undefined;
      const aeadKey = record.aeadKey;
      if (aeadKey !== undefined) {
        // An SIV key keeps a JS copy of its bytes, and so does each key derived from it.
        wipeAeadKey(aeadKey);
        this.#derived.forget(aeadKey.keyObject);
        this.#derivedKeys.forget(aeadKey.keyObject);
      }
      record.aeadKey = undefined;
    }
  }

  /** Refuses decryption with any version below `version` (which may not exceed the primary). */
  setMinDecryptionVersion(name: string, version: number): void {
    const key = this.#key(name);
    if (!Number.isInteger(version) || version < 1 || version > key.primaryVersion) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `minimum decryption version of "${name}" must be from 1 to the primary version ${key.primaryVersion}`,
      );
    }
    key.minDecryptionVersion = version;
  }

  /**
   * Encrypts with the primary version of key `name` into a binary envelope.
   * Throws `ERR_KEY_NOT_FOUND`, or `ERR_KEY_EXHAUSTED` when the version reached its limit.
   */
  encrypt(name: string, plaintext: BytesLike, options?: EncryptOptions): Buffer {
    const key = this.#byName.get(name);
    if (key === undefined) throw new KeyNotFound(`no key named "${name}"`);
    const record =
      options?.version === undefined
        ? (key.versions.get(key.primaryVersion) as VersionRecord)
        : this.#candidateVersion(key, options.version);
    if (key.encryptionLimit !== null) this.#count(key, record);
    const aeadKey = this.#aeadKey(record, options?.keyContext);
    const nonce = noncePool.take(aeadParameters[key.algorithm].nonceLength);
    const aad = options?.aad === undefined ? record.header : withHeader(record.header, options.aad);
    return Buffer.concat([record.header, nonce, ...sealParts(aeadKey, nonce, plaintext, aad)]);
  }

  /** {@link Keyring.encrypt} returning the text form (`custos:` + base64url). */
  encryptToString(name: string, plaintext: BytesLike, options?: EncryptOptions): string {
    return envelopeToText(this.encrypt(name, plaintext, options));
  }

  /**
   * Decrypts a binary or text envelope with the key version it names. Throws
   * `ERR_MALFORMED_CIPHERTEXT` (structure), `ERR_DECRYPTION_FAILED` (not authentic, wrong
   * associated data or key context, or a key or version this keyring does not hold) or
   * `ERR_KEY_DISABLED` (the version may not decrypt).
   */
  decrypt(envelope: Uint8Array | string, options?: CryptOptions): Buffer {
    const { bytes, algorithm, keyVersion, nonceEnd } = readEnvelope(envelope);
    const key = this.#byId.get(idOf(bytes, 2));
    if (key === undefined || key.algorithm !== algorithm) {
      const keyId = bytes.toString('hex', 2, 2 + KEY_ID_LENGTH);
      throw new DecryptionFailed(`decryption failed: this keyring holds no key ${keyId}`);
    }
    const record = key.versions.get(keyVersion);
    if (record === undefined) {
      throw new DecryptionFailed(
        `decryption failed: key "${key.name}" has no version ${keyVersion}`,
      );
    }
    if (record.state === 'destroyed') {
      // No material is left to authenticate with: whatever the envelope claims, it is unreadable.
      throw new DecryptionFailed(
        `decryption failed: version ${keyVersion} of "${key.name}" is destroyed`,
      );
    }
    const aeadKey = this.#aeadKey(record, options?.keyContext);
    const aad =
      options?.aad === undefined
        ? bytes.subarray(0, ENVELOPE_HEADER_LENGTH)
        : withHeader(bytes, options.aad);
    // Authenticate before applying the version's policy, so a forged or altered envelope is
    // always ERR_DECRYPTION_FAILED and ERR_KEY_DISABLED means "authentic, but refused".
    const nonce = bytes.subarray(ENVELOPE_HEADER_LENGTH, nonceEnd);
    const plaintext = open(aeadKey, nonce, bytes.subarray(nonceEnd), aad);
    const refusal = versionRefusal(key, keyVersion, record.state);
    if (refusal !== undefined) {
      plaintext.fill(0);
      throw new KeyDisabled(refusal);
    }
    return plaintext;
  }

  /**
   * Derives a 32-byte key for another primitive from one version of key `name`:
   * `HKDF-SHA256(version key, info = "custos/keyring/v1/derived-key/" || purpose)`. Used for
   * per-column blind-index (HMAC) keys. The same name, version and purpose always give the same
   * key; a different purpose gives an unrelated one, and no derived key equals an AEAD key.
   * Throws `ERR_KEY_NOT_FOUND`, or `ERR_KEY_DISABLED` when the version may not decrypt.
   *
   * @example
   * ```ts
   * const { key, keyVersion } = keyring.deriveKey('fields', 'blind-index/users/email');
   * const index = hmacSha256(key, 'jane@example.com');
   * ```
   */
  deriveKey(name: string, purpose: BytesLike, options: DeriveKeyOptions = {}): DerivedKey {
    const key = this.#key(name);
    const version = options.version ?? key.primaryVersion;
    const record = this.#readableVersion(key, version);
    const info = withPrefix(DERIVED_KEY_INFO_PREFIX, purpose);
    const derived = this.#derivedKeys.derive(
      (record.aeadKey as AeadKey).keyObject,
      info,
      {},
      (bytes) => {
        const keyObject = createSecretKey(bytes);
        bytes.fill(0);
        return keyObject;
      },
    );
    return { keyId: key.idHex, keyVersion: version, key: derived };
  }

  /** Public facts only: safe to log. */
  toJSON(): { keys: KeyInfo[] } {
    return { keys: [...this.#byName.values()].map((k) => this.#describe(k)) };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const names = [...this.#byName.values()].map((k) => `${k.name}@v${k.primaryVersion}`);
    return `Keyring(${names.join(', ')})`;
  }

  /** @internal used by `loadKeyring` and `serializeKeyring`. */
  static internals = {
    records(keyring: Keyring): Iterable<KeyRecord> {
      return keyring.#byName.values();
    },
    restore(
      keyring: Keyring,
      key: Omit<KeyRecord, 'versions' | 'idHex'>,
      versions: readonly {
        version: number;
        state: KeyVersionState;
        createdAt: string;
        encryptions: number;
        material: Buffer | undefined;
      }[],
    ): void {
      const record: KeyRecord = { ...key, idHex: key.id.toString('hex'), versions: new Map() };
      for (const v of versions) {
        keyring.#addVersion(record, v.version, v.state, v.createdAt, v.encryptions, v.material);
      }
      keyring.#register(record);
    },
  };

  #register(record: KeyRecord): void {
    if (this.#byName.has(record.name)) {
      throw new CustosError('ERR_KEY_EXISTS', `key "${record.name}" exists`);
    }
    if (this.#byId.has(idOf(record.id, 0))) {
      throw new CustosError('ERR_KEY_EXISTS', `key id ${record.idHex} is used twice`);
    }
    this.#byName.set(record.name, record);
    this.#byId.set(idOf(record.id, 0), record);
  }

  #addVersion(
    key: KeyRecord,
    version: number,
    state: KeyVersionState,
    createdAt: string,
    encryptions: number,
    material: Buffer | undefined,
  ): void {
    key.versions.set(version, {
      version,
      state,
      createdAt,
      encryptions,
      material,
      aeadKey: material ? createAeadKey(key.algorithm, material) : undefined,
      header: buildEnvelopeHeader(key.algorithm, key.id, version),
    });
  }

  #key(name: string): KeyRecord {
    const key = this.#byName.get(name);
    if (key === undefined) throw new KeyNotFound(`no key named "${name}"`);
    return key;
  }

  #version(key: KeyRecord, version: number): VersionRecord {
    const record = key.versions.get(version);
    if (record === undefined) {
      throw new KeyNotFound(`key "${key.name}" has no version ${version}`);
    }
    return record;
  }

  /** A version that may decrypt: exists, is enabled or decrypt-only, and >= the minimum. */
  #readableVersion(key: KeyRecord, version: number): VersionRecord {
    const record = this.#version(key, version);
    const refusal = versionRefusal(key, version, record.state);
    if (refusal !== undefined) throw new KeyDisabled(refusal);
    return record;
  }

  /** An explicit encryption version: deterministic keys only (lookup candidates). */
  #candidateVersion(key: KeyRecord, version: number): VersionRecord {
    if (aeadParameters[key.algorithm].randomNonce) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `"${key.name}" is ${key.algorithm}: only deterministic keys encrypt with an explicit version`,
      );
    }
    return this.#readableVersion(key, version);
  }

  #aeadKey(record: VersionRecord, keyContext: BytesLike | undefined): AeadKey {
    const base = record.aeadKey as AeadKey;
    if (keyContext === undefined) return base;
    const info = withPrefix(CONTEXT_INFO_PREFIX, keyContext);
    return this.#derived.derive(base.keyObject, info, {}, (bytes) => {
      const derived = createAeadKey(base.algorithm, bytes);
      bytes.fill(0);
      return derived;
    });
  }

  #count(key: KeyRecord, record: VersionRecord): void {
    const limit = key.encryptionLimit as number;
    if (record.encryptions >= limit) {
      throw new CustosError(
        'ERR_KEY_EXHAUSTED',
        `version ${record.version} of "${key.name}" reached its limit of ${limit} encryptions; rotate the key`,
      );
    }
    record.encryptions++;
    if (
      this.#onRotationDue !== undefined &&
      record.encryptions >= limit * this.#rotateAfterFraction &&
      !this.#rotationNotified.has(record)
    ) {
      this.#rotationNotified.add(record);
      this.#onRotationDue(this.#describe(key));
    }
  }

  #describe(key: KeyRecord): KeyInfo {
    const primary = key.versions.get(key.primaryVersion) as VersionRecord;
    return {
      name: key.name,
      id: key.idHex,
      algorithm: key.algorithm,
      primaryVersion: key.primaryVersion,
      minDecryptionVersion: key.minDecryptionVersion,
      encryptionLimit: key.encryptionLimit,
      rotationDue:
        key.encryptionLimit !== null &&
        primary.encryptions >= key.encryptionLimit * this.#rotateAfterFraction,
      versions: [...key.versions.values()].map((v) => ({
        version: v.version,
        state: v.state,
        createdAt: v.createdAt,
        encryptions: v.encryptions,
      })),
    };
  }
}

function defaultLimit(algorithm: AeadAlgorithm, requested: number | undefined): number | null {
  if (!aeadParameters[algorithm].randomNonce) return null;
  const limit = requested ?? RANDOM_NONCE_ENCRYPTION_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > RANDOM_NONCE_ENCRYPTION_LIMIT) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'encryptionLimit must be an integer from 1 to 2^32',
    );
  }
  return limit;
}

/**
 * HKDF info: prefix and context. A string context stays a string (same UTF-8 bytes), which the
 * derived-key cache looks up without hex-encoding it.
 */
function withPrefix(prefix: string, context: BytesLike): BytesLike {
  return typeof context === 'string'
    ? prefix + context
    : Buffer.concat([Buffer.from(prefix), toBuffer(context)]);
}

/** The envelope header (the first bytes of `envelope`) followed by the caller's associated data. */
function withHeader(envelope: Buffer, aad: AssociatedData): Buffer {
  // On every field encryption and decryption: a loop and TypedArray `set` skip the views and
  // checks of Buffer.concat.
  const extra = aad instanceof Uint8Array ? aad : encodeAssociatedData(aad);
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER_LENGTH + extra.length);
  for (let i = 0; i < ENVELOPE_HEADER_LENGTH; i++) out[i] = envelope[i] as number;
  out.set(extra, ENVELOPE_HEADER_LENGTH);
  return out;
}

/** A key id as a map key: the 8 bytes at `offset`, read without building a hex string. */
function idOf(bytes: Buffer, offset: number): bigint {
  return bytes.readBigUInt64BE(offset);
}

/** Why a version may not decrypt, or `undefined` when it may. */
function versionRefusal(
  key: { readonly name: string; readonly minDecryptionVersion: number },
  version: number,
  state: KeyVersionState,
): string | undefined {
  if (version < key.minDecryptionVersion) {
    return `version ${version} of "${key.name}" is below the minimum decryption version ${key.minDecryptionVersion}`;
  }
  if (state === 'disabled' || state === 'destroyed') {
    return `version ${version} of "${key.name}" is ${state}`;
  }
  return undefined;
}

/** True when `name` may name a key (see {@link KEY_NAME_RULE}). */
export function isKeyName(name: string): boolean {
  return KEY_NAME.test(name);
}
