import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  randomBytes,
  type SigningOptions,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { DerivedKeyCache } from '../crypto/hkdf.js';
import { CustosError, DecryptionFailed, KeyDisabled } from '../errors/index.js';
import { noncePool } from '../lib/random-pool.js';
import { formatVersioned, parseVersioned } from './ciphertext.js';
import { canDecrypt, canEncrypt, effectiveState } from './key-lifecycle.js';
import { isRsaType, symmetricKeyBytes } from './key-material.js';
import { keyTypeSupport } from './key-types.js';
import { type TransitCipherKey, transitCipherKey } from './transit-ciphers.js';
import type { TransitKeyPolicy, TransitKeyVersion } from './transit-key.js';
import { type OaepHash, rsaOaepDecrypt, rsaOaepEncrypt, rsaSignatureKey } from './transit-rsa.js';

/** A key as the operations see it: its policy and a lookup of its versions. */
export interface TransitKeyView {
  readonly policy: TransitKeyPolicy;
  version(version: number): TransitKeyVersion | undefined;
  /** The clock for `expires_at` (default `Date.now()`). */
  readonly nowMs?: number;
}

/** Vault's message for a version below `min_decryption_version`. */
export const VERSION_TOO_OLD_MESSAGE =
  'ciphertext or signature version is disallowed by policy (too old)';
const MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

interface Prepared {
  cipher?: TransitCipherKey;
  hmac: KeyObject;
  privateKey?: KeyObject;
  publicKey?: KeyObject;
}

const prepared = new WeakMap<TransitKeyVersion, Prepared>();
const derivedKeys = new DerivedKeyCache<TransitCipherKey>(4096);
const nonceKeys = new DerivedKeyCache<KeyObject>(4096);
const CONVERGENT_INFO = 'custos/transit/convergent-nonce/v1';

const invalid = (message: string) => new CustosError('ERR_INVALID_ARGUMENT', message);
const malformed = (message: string) => new CustosError('ERR_MALFORMED_CIPHERTEXT', message);

function prepare(policy: TransitKeyPolicy, v: TransitKeyVersion): Prepared {
  let p = prepared.get(v);
  if (p === undefined) {
    p = { hmac: createSecretKey(Buffer.from(v.hmac_key, 'base64')) };
    if (v.key !== undefined) p.cipher = transitCipherKey(policy.type, Buffer.from(v.key, 'base64'));
    if (v.private_key !== undefined) {
      p.privateKey = createPrivateKey({
        key: Buffer.from(v.private_key, 'base64'),
        format: 'der',
        type: 'pkcs8',
      });
      p.publicKey = createPublicKey(p.privateKey);
    }
    prepared.set(v, p);
  }
  return p;
}

function versionFor(view: TransitKeyView, version: number): TransitKeyVersion {
  const v = view.version(version);
  if (v === undefined)
    throw new KeyDisabled(
      `version ${version} of key ${view.policy.name} no longer exists (trimmed)`,
    );
  return v;
}

function assertUsable(view: TransitKeyView, mode: 'encrypt' | 'decrypt'): void {
  const { policy } = view;
  const state = effectiveState(policy.state, policy.expires_at, view.nowMs ?? Date.now());
  const allowed =
    mode === 'encrypt' ? canEncrypt(state) : canDecrypt(state, policy.decrypt_after_revocation);
  if (!allowed) throw new KeyDisabled(`key ${policy.name} is ${state}: it cannot ${mode}`);
}

/** The version to encrypt (or sign) with: `requested`, or the latest, within the policy's limits. */
export function encryptionVersion(policy: TransitKeyPolicy, requested: number | undefined): number {
  if (requested === undefined || requested === 0) return policy.latest_version;
  if (requested > policy.latest_version)
    throw invalid('requested version for encryption is greater than the latest key version');
  if (requested < Math.max(policy.min_encryption_version, policy.min_decryption_version)) {
    throw invalid(
      'requested version for encryption is less than the minimum encryption key version',
    );
  }
  return requested;
}

function checkDecryptionVersion(policy: TransitKeyPolicy, version: number): void {
  if (version > policy.latest_version) throw malformed('invalid ciphertext: version is too new');
  if (version < policy.min_decryption_version) throw new KeyDisabled(VERSION_TOO_OLD_MESSAGE);
}

function cipherKey(
  view: TransitKeyView,
  v: TransitKeyVersion,
  context: Buffer | undefined,
): TransitCipherKey {
  const { policy } = view;
  const base = prepare(policy, v).cipher;
  if (base === undefined) throw invalid(`key type ${policy.type} does not support encryption`);
  if (!policy.derived) {
    assertNoContext(context);
    return base;
  }
  if (context === undefined || context.length === 0) throw invalid(MISSING_CONTEXT);
  return derivedKeys.derive(
    base.keyObject,
    context,
    { length: symmetricKeyBytes(policy.type) ?? 32 },
    (bytes) => transitCipherKey(policy.type, bytes),
  );
}

function assertNoContext(context: Buffer | undefined): void {
  if (context !== undefined && context.length > 0)
    throw invalid('key was not created as a derived key, but a context was provided');
}

/** The key pair of an RSA version, for encryption (RSA keys are never derived). */
function rsaKeys(
  view: TransitKeyView,
  v: TransitKeyVersion,
  input: { context?: Buffer; associatedData?: Buffer },
): Prepared & { privateKey: KeyObject; publicKey: KeyObject } {
  assertNoContext(input.context);
  if (input.associatedData !== undefined && input.associatedData.length > 0)
    throw invalid(`associated_data is not supported by key type ${view.policy.type}`);
  return prepare(view.policy, v) as Prepared & { privateKey: KeyObject; publicKey: KeyObject };
}

/**
 * Checks that `view` may encrypt now (key type, lifecycle state, `key_version` within the
 * policy's limits) and returns the version an encryption would use. Counters are reserved
 * against this version, so it runs before any is taken.
 *
 * @example
 * ```ts
 * const version = checkEncryption(view, undefined); // the latest, or throws (revoked, …)
 * ```
 */
export function checkEncryption(view: TransitKeyView, keyVersion: number | undefined): number {
  const { policy } = view;
  if (!keyTypeSupport[policy.type].encryption)
    throw invalid(`key type ${policy.type} does not support encryption`);
  assertUsable(view, 'encrypt');
  return encryptionVersion(policy, keyVersion);
}

/** Input of an encryption. */
export interface EncryptInput {
  readonly plaintext: Buffer;
  readonly context?: Buffer;
  readonly associatedData?: Buffer;
  readonly keyVersion?: number;
  /** RSA keys: OAEP's hash (default SHA-256, as Vault; SHA-1 for AWS's RSAES_OAEP_SHA_1). */
  readonly oaepHash?: OaepHash;
}

/**
 * Encrypts as Vault's transit does: `vault:v<N>:` + base64(nonce ‖ ciphertext ‖ tag). The nonce
 * is random, or — for convergent keys — an HMAC of the associated data and plaintext under a key
 * derived from the context, so equal inputs give equal ciphertexts (and nothing else is shared).
 */
export function encryptWithKey(
  view: TransitKeyView,
  input: EncryptInput,
): { ciphertext: string; keyVersion: number } {
  const { policy } = view;
  const version = checkEncryption(view, input.keyVersion);
  const material = versionFor(view, version);
  if (material.private_key !== undefined) {
    const { publicKey } = rsaKeys(view, material, input);
    const body = rsaOaepEncrypt(publicKey, input.plaintext, input.oaepHash);
    return { ciphertext: formatVersioned(version, body), keyVersion: version };
  }
  const key = cipherKey(view, material, input.context);
  const aad = input.associatedData ?? Buffer.alloc(0);
  let nonce: Buffer;
  if (policy.convergent_encryption) {
    const nonceKey = nonceKeys.derive(key.keyObject, CONVERGENT_INFO, {}, (bytes) =>
      createSecretKey(bytes),
    );
    const lengths = Buffer.alloc(8);
    lengths.writeBigUInt64BE(BigInt(aad.length));
    nonce = createHmac('sha256', nonceKey)
      .update(lengths)
      .update(aad)
      .update(input.plaintext)
      .digest()
      .subarray(0, 12);
  } else {
    nonce = noncePool.take(12);
  }
  const sealed = Buffer.concat([nonce, key.seal(nonce, input.plaintext, aad)]);
  return { ciphertext: formatVersioned(version, sealed), keyVersion: version };
}

/** Input of a decryption. */
export interface DecryptInput {
  readonly ciphertext: unknown;
  readonly context?: Buffer;
  readonly associatedData?: Buffer;
  /** RSA keys: OAEP's hash (default SHA-256). */
  readonly oaepHash?: OaepHash;
}

/** Decrypts a `vault:v<N>:` ciphertext; any change to it fails with Vault's messages. */
export function decryptWithKey(
  view: TransitKeyView,
  input: DecryptInput,
): { plaintext: Buffer; keyVersion: number } {
  const { policy } = view;
  if (!keyTypeSupport[policy.type].encryption)
    throw invalid(`key type ${policy.type} does not support decryption`);
  const { version, bytes } = parseVersioned(input.ciphertext);
  checkDecryptionVersion(policy, version);
  assertUsable(view, 'decrypt');
  const material = versionFor(view, version);
  if (material.private_key !== undefined) {
    const { privateKey } = rsaKeys(view, material, input);
    return {
      plaintext: rsaOaepDecrypt(privateKey, bytes, input.oaepHash),
      keyVersion: version,
    };
  }
  const key = cipherKey(view, material, input.context);
  if (bytes.length < 12 + 16) throw malformed('invalid ciphertext length');
  try {
    const plaintext = key.open(
      bytes.subarray(0, 12),
      bytes.subarray(12),
      input.associatedData ?? Buffer.alloc(0),
    );
    return { plaintext, keyVersion: version };
  } catch {
    throw new DecryptionFailed('cipher: message authentication failed');
  }
}

/** Random key material for `datakey` (128, 256 or 512 bits). */
export function randomDataKey(bits: unknown): Buffer {
  if (bits !== 128 && bits !== 256 && bits !== 512)
    throw invalid('invalid bits value; must be 128, 256 or 512');
  return randomBytes(bits / 8);
}

const HMAC_ALGORITHMS: Readonly<Record<string, string>> = {
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  'sha3-224': 'sha3-224',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
};

/** The hashes ECDSA and RSA signatures take (Vault's names → node's). */
const SIGNING_HASHES: Readonly<Record<string, string>> = {
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
};

function hmacAlgorithm(name: string | undefined): string {
  const wanted = name ?? 'sha2-256';
  // Own entries only: `constructor` or `__proto__` must not reach Object.prototype.
  const algorithm = Object.hasOwn(HMAC_ALGORITHMS, wanted) ? HMAC_ALGORITHMS[wanted] : undefined;
  // The message names the choices, never the value sent (error texts reach the audit log as
  // they are).
  if (algorithm === undefined)
    throw invalid(`unsupported algorithm; use one of ${Object.keys(HMAC_ALGORITHMS).join(', ')}`);
  return algorithm;
}

/** HMAC of `input` with the version's HMAC key: `vault:v<N>:` + base64. */
export function hmacWithKey(
  view: TransitKeyView,
  input: Buffer,
  algorithm?: string,
  keyVersion?: number,
): string {
  assertUsable(view, 'encrypt');
  const version = encryptionVersion(view.policy, keyVersion);
  const mac = createHmac(
    hmacAlgorithm(algorithm),
    prepare(view.policy, versionFor(view, version)).hmac,
  )
    .update(input)
    .digest();
  return formatVersioned(version, mac);
}

/** Verifies an HMAC made by {@link hmacWithKey}, in constant time. */
export function verifyHmacWithKey(
  view: TransitKeyView,
  input: Buffer,
  hmac: unknown,
  algorithm?: string,
): boolean {
  const { version, bytes } = parseVersioned(hmac);
  checkDecryptionVersion(view.policy, version);
  assertUsable(view, 'decrypt');
  const expected = createHmac(
    hmacAlgorithm(algorithm),
    prepare(view.policy, versionFor(view, version)).hmac,
  )
    .update(input)
    .digest();
  return expected.length === bytes.length && timingSafeEqual(expected, bytes);
}

/**
 * Options of `sign` / `verify`.
 *
 * @example
 * ```ts
 * const { signature } = kms.sign('release', artifact, { marshalingAlgorithm: 'jws' } satisfies SignatureOptions);
 * kms.sign('jwt-rs256', header, { signatureAlgorithm: 'pkcs1v15' });
 * ```
 */
export interface SignatureOptions {
  /** ECDSA and RSA: sha2-224/256/384/512 (default sha2-256, as in Vault). */
  readonly hashAlgorithm?: string;
  /**
   * `asn1` (default) or `jws`: the signature in base64url, as in a JWS (every key type, as in
   * Vault); for ECDSA also r‖s instead of DER.
   */
  readonly marshalingAlgorithm?: 'asn1' | 'jws';
  /** RSA only: `pss` (default, as in Vault) or `pkcs1v15`. */
  readonly signatureAlgorithm?: 'pss' | 'pkcs1v15';
  /**
   * RSA PSS only: `auto` (default: the largest salt when signing, any when verifying), `hash`
   * (the hash's length) or a number of bytes.
   */
  readonly saltLength?: 'auto' | 'hash' | number;
  readonly keyVersion?: number;
}

/**
 * The refusal of a `marshaling_algorithm` other than asn1 and jws: Vault's words, without the
 * value sent (error texts reach the audit log as they are).
 *
 * @example
 * ```ts
 * throw invalidMarshaling(); // invalid marshaling type; use asn1 or jws
 * ```
 */
export function invalidMarshaling(): CustosError {
  return invalid('invalid marshaling type; use asn1 or jws');
}

/** The output length of each signing hash, for PSS salt bounds. */
const HASH_BYTES: Readonly<Record<string, number>> = {
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

interface SignatureParameters {
  readonly digest: string | null;
  readonly urlSafe: boolean;
  /** The key options for node:crypto's sign or verify. */
  keyInput(
    key: KeyObject,
    mode: 'sign' | 'verify',
  ): KeyObject | ({ key: KeyObject } & SigningOptions);
}

function signatureParameters(view: TransitKeyView, options: SignatureOptions): SignatureParameters {
  const { type } = view.policy;
  if (!keyTypeSupport[type].signing) throw invalid(`key type ${type} does not support signing`);
  const marshaling = options.marshalingAlgorithm ?? 'asn1';
  if (marshaling !== 'asn1' && marshaling !== 'jws') throw invalidMarshaling();
  const urlSafe = marshaling === 'jws';
  const rsa = isRsaType(type);
  if (!rsa && (options.signatureAlgorithm !== undefined || options.saltLength !== undefined))
    throw invalid(`signature_algorithm and salt_length apply to RSA keys only, not ${type}`);
  if (type === 'ed25519') return { digest: null, urlSafe, keyInput: (key) => key };
  const hash = options.hashAlgorithm ?? 'sha2-256';
  const digest = Object.hasOwn(SIGNING_HASHES, hash) ? SIGNING_HASHES[hash] : undefined;
  if (digest === undefined)
    throw invalid(
      `unsupported hash algorithm; use one of ${Object.keys(SIGNING_HASHES).join(', ')}`,
    );
  if (rsa) {
    // Checked now, before any item: a bad scheme or salt refuses the whole request.
    const check = (key: KeyObject, mode: 'sign' | 'verify') =>
      rsaSignatureKey(
        key,
        options.signatureAlgorithm,
        options.saltLength,
        HASH_BYTES[digest] ?? 32,
        mode,
      );
    const latest = view.version(view.policy.latest_version);
    if (latest !== undefined) check(prepare(view.policy, latest).publicKey as KeyObject, 'verify');
    return { digest, urlSafe, keyInput: check };
  }
  const dsaEncoding = urlSafe ? ('ieee-p1363' as const) : ('der' as const);
  return { digest, urlSafe, keyInput: (key) => ({ key, dsaEncoding }) };
}

/** Signs `input` (ed25519, ECDSA, RSA): `vault:v<N>:` + the signature. */
export function signWithKey(
  view: TransitKeyView,
  input: Buffer,
  options: SignatureOptions = {},
): { signature: string; keyVersion: number } {
  const params = signatureParameters(view, options);
  assertUsable(view, 'encrypt');
  const version = encryptionVersion(view.policy, options.keyVersion);
  const key = prepare(view.policy, versionFor(view, version)).privateKey as KeyObject;
  const signature = sign(params.digest, input, params.keyInput(key, 'sign'));
  return { signature: formatVersioned(version, signature, params.urlSafe), keyVersion: version };
}

/** Verifies a signature made by {@link signWithKey}. */
export function verifyWithKey(
  view: TransitKeyView,
  input: Buffer,
  signature: unknown,
  options: SignatureOptions = {},
): boolean {
  const params = signatureParameters(view, options);
  const { version, bytes } = parseVersioned(signature, params.urlSafe);
  checkDecryptionVersion(view.policy, version);
  assertUsable(view, 'decrypt');
  const key = prepare(view.policy, versionFor(view, version)).publicKey as KeyObject;
  try {
    return verify(params.digest, input, params.keyInput(key, 'verify'), bytes);
  } catch {
    return false;
  }
}
