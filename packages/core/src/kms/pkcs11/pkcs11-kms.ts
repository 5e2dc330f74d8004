import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { encodeAssociatedData } from '../../crypto/associated-data.js';
import { CustosError, DecryptionFailed, KeyNotFound } from '../../errors/index.js';
import { type DataKeyContext, dataKeyBinding } from '../../fields/data-key-binding.js';
import type { FieldKms, KmsKeyVersion } from '../../fields/field-kms.js';
import {
  loadPkcs11Library,
  type Pkcs11Instance,
  type Pkcs11Library,
  type Pkcs11Module,
  pkcs11Failure,
  returnValueName,
} from './pkcs11-binding.js';

/** Options of {@link openPkcs11Kms}. */
export interface Pkcs11KmsOptions {
  /** Path of the vendor's PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly library: string;
  /** The token's label; default: the first slot holding a token. */
  readonly tokenLabel?: string;
  /** The user PIN. Never part of an error message. */
  readonly pin: string;
  /** Label of the AES-256 wrapping key on the token (versions differ by `CKA_ID`). */
  readonly keyLabel: string;
  /** Generate version 1 of the key when the token has none with that label; default false. */
  readonly createKeyIfMissing?: boolean;
}

/**
 * A {@link FieldKms} on a PKCS#11 token (an HSM, SoftHSM2), with the key-version control an
 * operator needs.
 */
export interface Pkcs11Kms extends FieldKms {
  /**
   * Generates a new version of the wrapping key on the token (AES-256, not extractable, same
   * label, `CKA_ID` = the next version number); new data keys wrap under it, old ones still
   * unwrap.
   */
  rotateKey(): Promise<KmsKeyVersion>;
  /** Logs out, closes the session and releases the module. */
  close(): Promise<void>;
}

const PREFIX = 'pkcs11:v';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

/**
 * Opens a field-encryption KMS over a PKCS#11 token: each data key is 32 random bytes (node:crypto)
 * encrypted on the token with CKM_AES_GCM under a non-extractable AES-256 key found by label,
 * with the tenant bound as associated data. The wrapped key is
 * `pkcs11:v<version>:<base64url(iv ‖ ciphertext ‖ tag)>`. `pkcs11js` is an optional peer
 * dependency, loaded only here.
 *
 * Errors: `ERR_KMS_PROVIDER_MISSING` (no `pkcs11js`, no module at `library`),
 * `ERR_KMS_LOGIN_FAILED` (PIN refused; the PIN is never in the message), `ERR_KEY_NOT_FOUND`
 * (no token with that label, no key with that label), `ERR_KMS_PROVIDER` (another PKCS#11 failure),
 * `ERR_DECRYPTION_FAILED` (a wrapped key that does not open for this tenant).
 *
 * @example
 * ```ts
 * const kms = await openPkcs11Kms({
 *   library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'custos', pin, keyLabel: 'field-keys',
 * });
 * const fc = createFieldCipher({ kms });
 * ```
 */
export async function openPkcs11Kms(options: Pkcs11KmsOptions): Promise<Pkcs11Kms> {
  if (typeof options.keyLabel !== 'string' || options.keyLabel === '') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'keyLabel must be a non-empty string');
  }
  if (typeof options.pin !== 'string' || options.pin === '') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'pin must be a non-empty string');
  }
  const library = await loadPkcs11Library(options.library);
  try {
    return openOnToken(library, options);
  } catch (err) {
    library.release();
    throw err;
  }
}

function openOnToken(library: Pkcs11Library, options: Pkcs11KmsOptions): Pkcs11Kms {
  const { binding, pkcs11 } = library;
  const call = <T>(doing: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw err instanceof CustosError ? err : pkcs11Failure(binding, err, doing);
    }
  };
  const slot = findSlot(binding, pkcs11, options.tokenLabel);
  const session = call('opening a session', () =>
    pkcs11.C_OpenSession(slot, binding.CKF_SERIAL_SESSION | binding.CKF_RW_SESSION),
  );
  const slotKey = slot.toString('hex');
  try {
    login(library, session, slotKey, options.pin);
  } catch (err) {
    try {
      pkcs11.C_CloseSession(session);
    } catch {
      // The login error is the one to report.
    }
    throw err;
  }
  const endSession = () => {
    const held = library.logins.get(slotKey);
    if (held !== undefined && --held.sessions === 0) library.logins.delete(slotKey);
    // Closing the application's last session with the token logs it out (PKCS#11 §5.6).
    pkcs11.C_CloseSession(session);
  };
  const { keyLabel } = options;
  let closed = false;
  let versions: Map<number, Buffer>;
  try {
    versions = call('finding the wrapping key', () =>
      findKeyVersions(binding, pkcs11, session, keyLabel),
    );
    if (versions.size === 0 && options.createKeyIfMissing === true) {
      const handle = call(`generating ${keyLabel} v1`, () =>
        generateKey(binding, pkcs11, session, keyLabel, 1),
      );
      versions.set(1, handle);
    }
    if (versions.size === 0) {
      throw new KeyNotFound(`the token holds no AES key labelled ${JSON.stringify(keyLabel)}`);
    }
  } catch (err) {
    try {
      endSession();
    } catch {
      // The first error is the one to report.
    }
    throw err;
  }
  const latest = () => Math.max(...versions.keys());
  const usable = () => {
    if (closed) throw new CustosError('ERR_INVALID_ARGUMENT', 'this PKCS#11 KMS is closed');
  };
  const aad = (context: DataKeyContext) => encodeAssociatedData(dataKeyBinding(context));
  const gcm = (iv: Buffer, associated: Buffer) => ({
    mechanism: binding.CKM_AES_GCM,
    parameter: {
      type: binding.CK_PARAMS_GCM,
      iv,
      ivBits: IV_BYTES * 8,
      aad: associated,
      tagBits: TAG_BYTES * 8,
    },
  });

  return {
    async generateDataKey(context) {
      usable();
      const version = latest();
      const key = versions.get(version) as Buffer;
      const plaintext = randomBytes(DATA_KEY_BYTES);
      const iv = randomBytes(IV_BYTES);
      const sealed = call(`wrapping a data key under ${keyLabel} v${version}`, () => {
        pkcs11.C_EncryptInit(session, gcm(iv, aad(context)), key);
        return pkcs11.C_Encrypt(session, plaintext, Buffer.alloc(DATA_KEY_BYTES + TAG_BYTES));
      });
      const wrapped = `${PREFIX}${version}:${Buffer.concat([iv, sealed]).toString('base64url')}`;
      return { plaintext, wrapped };
    },
    async unwrapDataKey(wrapped, context) {
      usable();
      const { version, body } = parseWrapped(wrapped);
      let key = versions.get(version);
      if (key === undefined) {
        versions = call('finding the wrapping key', () =>
          findKeyVersions(binding, pkcs11, session, keyLabel),
        );
        key = versions.get(version);
      }
      if (key === undefined) {
        throw new DecryptionFailed(
          `decryption failed: the token holds no version ${version} of key ${JSON.stringify(keyLabel)}`,
        );
      }
      const iv = body.subarray(0, IV_BYTES);
      const sealed = body.subarray(IV_BYTES);
      const handle = key;
      call(`unwrapping a data key under ${keyLabel} v${version}`, () =>
        pkcs11.C_DecryptInit(session, gcm(Buffer.from(iv), aad(context)), handle),
      );
      let plaintext: Buffer;
      try {
        plaintext = pkcs11.C_Decrypt(session, Buffer.from(sealed), Buffer.alloc(sealed.length));
      } catch (err) {
        if (err instanceof binding.Pkcs11Error && isAuthenticationFailure(binding, err.code)) {
          throw new DecryptionFailed(
            `decryption failed: the data key does not unwrap for this tenant (${returnValueName(binding, err.code)})`,
          );
        }
        throw pkcs11Failure(binding, err, `unwrapping a data key under ${keyLabel} v${version}`);
      }
      if (plaintext.length !== DATA_KEY_BYTES) {
        plaintext.fill(0);
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          'the wrapped value is not a 32-byte data key',
        );
      }
      return plaintext;
    },
    describeWrappedKey(wrapped) {
      return { keyId: keyLabel, keyVersion: parseWrapped(wrapped).version };
    },
    async currentKey() {
      usable();
      versions = call('finding the wrapping key', () =>
        findKeyVersions(binding, pkcs11, session, keyLabel),
      );
      if (versions.size === 0) {
        throw new KeyNotFound(`the token holds no AES key labelled ${JSON.stringify(keyLabel)}`);
      }
      return { keyId: keyLabel, keyVersion: latest() };
    },
    async rotateKey() {
      usable();
      const next = latest() + 1;
      const handle = call(`generating ${keyLabel} v${next}`, () =>
        generateKey(binding, pkcs11, session, keyLabel, next),
      );
      versions.set(next, handle);
      return { keyId: keyLabel, keyVersion: next };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        endSession();
      } finally {
        library.release();
      }
    },
  };
}

/** An AES-256 token key that never leaves the token, usable only to encrypt and decrypt. */
function generateKey(
  binding: Pkcs11Module,
  pkcs11: Pkcs11Instance,
  session: Buffer,
  keyLabel: string,
  version: number,
): Buffer {
  return pkcs11.C_GenerateKey(session, { mechanism: binding.CKM_AES_KEY_GEN }, [
    { type: binding.CKA_CLASS, value: binding.CKO_SECRET_KEY },
    { type: binding.CKA_KEY_TYPE, value: binding.CKK_AES },
    { type: binding.CKA_VALUE_LEN, value: 32 },
    { type: binding.CKA_LABEL, value: keyLabel },
    { type: binding.CKA_ID, value: Buffer.from(String(version)) },
    { type: binding.CKA_TOKEN, value: true },
    { type: binding.CKA_PRIVATE, value: true },
    { type: binding.CKA_SENSITIVE, value: true },
    { type: binding.CKA_EXTRACTABLE, value: false },
    { type: binding.CKA_ENCRYPT, value: true },
    { type: binding.CKA_DECRYPT, value: true },
  ]);
}

/** The slot holding the token labelled `tokenLabel` (default: the first slot with a token). */
export function findSlot(
  binding: Pkcs11Module,
  pkcs11: Pkcs11Instance,
  tokenLabel: string | undefined,
) {
  let slots: Buffer[];
  try {
    slots = pkcs11.C_GetSlotList(true);
  } catch (err) {
    throw pkcs11Failure(binding, err, 'listing slots');
  }
  for (const slot of slots) {
    if (tokenLabel === undefined) return slot;
    const info = pkcs11.C_GetTokenInfo(slot);
    if (info.label.trim() === tokenLabel) return slot;
  }
  throw new KeyNotFound(
    tokenLabel === undefined
      ? 'the PKCS#11 module has no slot holding a token'
      : `no PKCS#11 token is labelled ${JSON.stringify(tokenLabel)}`,
  );
}

/**
 * Logs `session` in with the user PIN, or counts it in when this process is already logged in to
 * the token with the same PIN (compared as SHA-256 digests, constant-time). The PIN is never in
 * an error message.
 */
export function login(library: Pkcs11Library, session: Buffer, slotKey: string, pin: string) {
  const { binding, pkcs11 } = library;
  const pinDigest = createHash('sha256').update(pin, 'utf8').digest();
  const held = library.logins.get(slotKey);
  if (held !== undefined) {
    // Already logged in through another session of ours: the token would not check this PIN.
    if (!timingSafeEqual(held.pinDigest, pinDigest)) {
      throw new CustosError(
        'ERR_KMS_LOGIN_FAILED',
        'the PIN differs from the one this process is logged in to the token with',
      );
    }
    held.sessions++;
    return;
  }
  try {
    pkcs11.C_Login(session, binding.CKU_USER, pin);
  } catch (err) {
    if (err instanceof binding.Pkcs11Error) {
      if (err.code === binding.CKR_USER_ALREADY_LOGGED_IN) {
        // Logged in by code that is not this provider: the PIN cannot be checked. Fail closed.
        throw new CustosError(
          'ERR_KMS_LOGIN_FAILED',
          'the token is already logged in by other code in this process, so the PIN cannot be checked',
        );
      }
      const refused = [
        binding.CKR_PIN_INCORRECT,
        binding.CKR_PIN_LOCKED,
        binding.CKR_PIN_LEN_RANGE,
        binding.CKR_PIN_INVALID,
        binding.CKR_PIN_EXPIRED,
      ];
      if (refused.includes(err.code)) {
        throw new CustosError(
          'ERR_KMS_LOGIN_FAILED',
          `the PKCS#11 token refused the PIN (${returnValueName(binding, err.code)})`,
        );
      }
    }
    throw pkcs11Failure(binding, err, 'logging in');
  }
  library.logins.set(slotKey, { sessions: 1, pinDigest });
}

/**
 * The AES keys labelled `keyLabel`, by version: `CKA_ID` holding a decimal number is the
 * version; a single key with another id (made by an operator's tool) is version 1.
 */
export function findKeyVersions(
  binding: Pkcs11Module,
  pkcs11: Pkcs11Instance,
  session: Buffer,
  keyLabel: string,
): Map<number, Buffer> {
  pkcs11.C_FindObjectsInit(session, [
    { type: binding.CKA_CLASS, value: binding.CKO_SECRET_KEY },
    { type: binding.CKA_KEY_TYPE, value: binding.CKK_AES },
    { type: binding.CKA_LABEL, value: keyLabel },
  ]);
  let handles: Buffer[];
  try {
    handles = pkcs11.C_FindObjects(session, 1000);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
  const versions = new Map<number, Buffer>();
  const unnumbered: Buffer[] = [];
  for (const handle of handles) {
    const [id] = pkcs11.C_GetAttributeValue(session, handle, [{ type: binding.CKA_ID }]);
    const text = Buffer.isBuffer(id?.value) ? id.value.toString('latin1') : '';
    if (/^[1-9][0-9]{0,8}$/.test(text)) versions.set(Number(text), handle);
    else unnumbered.push(handle);
  }
  if (versions.size === 0 && unnumbered.length === 1) versions.set(1, unnumbered[0] as Buffer);
  return versions;
}

function isAuthenticationFailure(binding: Pkcs11Module, code: number): boolean {
  return [
    binding.CKR_ENCRYPTED_DATA_INVALID,
    binding.CKR_ENCRYPTED_DATA_LEN_RANGE,
    binding.CKR_DATA_INVALID,
    // SoftHSM2 (and other Botan/OpenSSL-based tokens) report a GCM tag mismatch in C_Decrypt
    // as a general error: after a C_DecryptInit that succeeded, it means the data did not open.
    binding.CKR_GENERAL_ERROR,
  ].includes(code);
}

function parseWrapped(wrapped: string): { version: number; body: Buffer } {
  const match = /^pkcs11:v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)$/.exec(wrapped);
  const body = match === null ? undefined : Buffer.from(match[2] as string, 'base64url');
  if (
    match === null ||
    body === undefined ||
    body.length !== IV_BYTES + DATA_KEY_BYTES + TAG_BYTES
  ) {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      'the wrapped data key is not a pkcs11:v<version>:<base64url> value of the right length',
    );
  }
  return { version: Number(match[1]), body };
}
