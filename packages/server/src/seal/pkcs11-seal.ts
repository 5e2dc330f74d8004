import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CustosError, isCustosError } from '@custos/core/errors';
import {
  findKeyVersions,
  findSlot,
  loadPkcs11Library,
  login,
  type Pkcs11Library,
  pkcs11Failure,
  returnValueName,
} from '@custos/core/internal/pkcs11';
import { ServerError } from '../errors.js';
import type { RootKeyWrapper, WrappedRootKey } from './root-key-wrapper.js';

/** The mechanisms the PKCS#11 seal wraps with (Vault's `mechanism` names). */
export type Pkcs11SealMechanism = 'CKM_AES_GCM' | 'CKM_AES_KEY_WRAP_PAD';

/** The `seal` stanza of type `pkcs11`, with Vault's names (HSM_* environment fallbacks). */
export interface Pkcs11SealConfig {
  readonly type: 'pkcs11';
  /** Path of the vendor's PKCS#11 module (default: `HSM_LIB_PATH`). */
  readonly lib?: string;
  /** Slot number (default: `HSM_SLOT`); or `token_label`; neither: the first slot with a token. */
  readonly slot?: string;
  readonly token_label?: string;
  /** The user PIN (better: `pin_file`, or `HSM_PIN` in the environment). Never logged. */
  readonly pin?: string;
  /** A file holding the user PIN (trailing newline ignored). */
  readonly pin_file?: string;
  /** Label of the AES-256 key on the token (default: `HSM_KEY_LABEL`). */
  readonly key_label?: string;
  /** `CKM_AES_GCM` (default) or `CKM_AES_KEY_WRAP_PAD` (also as `0x1087` / `0x210a`). */
  readonly mechanism?: string;
  /** Vault's name: generate the key on the token at init when it holds none with that label. */
  readonly generate_key?: boolean;
  /** Vault's name: migrate from this seal back to Shamir unseal keys (docs/operations.md). */
  readonly disabled?: boolean;
}

/** Mechanism names and the numeric spellings Vault's configuration also takes. */
const MECHANISMS: Record<string, Pkcs11SealMechanism> = {
  ckm_aes_gcm: 'CKM_AES_GCM',
  '0x1087': 'CKM_AES_GCM',
  ckm_aes_key_wrap_pad: 'CKM_AES_KEY_WRAP_PAD',
  '0x210a': 'CKM_AES_KEY_WRAP_PAD',
};

/** The mechanism a stanza names, or undefined for a mechanism the seal does not offer. */
export function pkcs11SealMechanism(name: string | undefined): Pkcs11SealMechanism | undefined {
  return name === undefined ? 'CKM_AES_GCM' : MECHANISMS[name.toLowerCase()];
}

/** Stored before the ciphertext, so a later change of `mechanism` still unwraps the old key. */
const TAGS: Record<Pkcs11SealMechanism, string> = {
  CKM_AES_GCM: 'gcm',
  CKM_AES_KEY_WRAP_PAD: 'kwp',
};

/** Bound to every GCM wrap: a root key wrapped for something else does not unwrap as one. */
const CONTEXT = Buffer.from('custos/root-key/v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ROOT_KEY_BYTES = 32;

interface Resolved {
  readonly lib: string;
  readonly slot: bigint | undefined;
  readonly tokenLabel: string | undefined;
  readonly pin: string;
  readonly keyLabel: string;
  readonly mechanism: Pkcs11SealMechanism;
}

const invalid = (message: string): never => {
  throw new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
};

function resolve(config: Pkcs11SealConfig, env: NodeJS.ProcessEnv): Resolved {
  const lib = config.lib ?? env.HSM_LIB_PATH;
  if (lib === undefined || lib === '')
    invalid('seal.lib is missing (set it in the seal stanza, or HSM_LIB_PATH in the environment)');
  const keyLabel = config.key_label ?? env.HSM_KEY_LABEL;
  if (keyLabel === undefined || keyLabel === '')
    invalid('seal.key_label is missing (set it in the seal stanza, or HSM_KEY_LABEL)');
  const slotText = config.slot ?? (config.token_label === undefined ? env.HSM_SLOT : undefined);
  if (slotText !== undefined && !/^(0|[1-9][0-9]{0,19})$/.test(slotText))
    invalid('seal.slot must be a slot number (HSM_SLOT)');
  let pin = config.pin;
  if (pin === undefined && config.pin_file !== undefined) {
    try {
      pin = readFileSync(config.pin_file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      invalid(
        `seal.pin_file ${JSON.stringify(config.pin_file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  pin ??= env.HSM_PIN;
  if (pin === undefined || pin === '')
    invalid('the PKCS#11 PIN is missing (seal.pin_file, HSM_PIN in the environment, or seal.pin)');
  const mechanism = pkcs11SealMechanism(config.mechanism);
  if (mechanism === undefined)
    invalid('seal.mechanism must be CKM_AES_GCM or CKM_AES_KEY_WRAP_PAD');
  return {
    lib: lib as string,
    slot: slotText === undefined ? undefined : BigInt(slotText),
    tokenLabel: config.token_label,
    pin: pin as string,
    keyLabel: keyLabel as string,
    mechanism: mechanism as Pkcs11SealMechanism,
  };
}

/**
 * The PKCS#11 seal: the root key is wrapped by an AES-256 key that never leaves an HSM (SoftHSM2,
 * a network HSM), with `CKM_AES_GCM` (random IV, fixed associated data) or
 * `CKM_AES_KEY_WRAP_PAD` (RFC 5649; the root key enters the token only as a session object,
 * destroyed after the wrap). Each wrap and unwrap loads the module, logs in, works and logs out,
 * so a token that appears later is found by the next retry. A PIN the token refuses is never
 * tried again by this process (a retry loop would lock the PIN): fix it and restart.
 *
 * @example
 * ```ts
 * const wrapper = createPkcs11Seal(
 *   { type: 'pkcs11', lib: '/usr/lib/softhsm/libsofthsm2.so', token_label: 'custos', key_label: 'custos-seal' },
 *   { HSM_PIN: pin },
 * );
 * ```
 */
export function createPkcs11Seal(
  config: Pkcs11SealConfig,
  env: NodeJS.ProcessEnv = process.env,
): RootKeyWrapper {
  const settings = resolve(config, env);
  const where =
    settings.tokenLabel !== undefined
      ? `token ${JSON.stringify(settings.tokenLabel)}`
      : settings.slot !== undefined
        ? `slot ${settings.slot}`
        : 'first token';
  const description = `pkcs11 seal ${settings.lib} ${where} key ${JSON.stringify(settings.keyLabel)}`;
  let refusedLogin: CustosError | undefined;

  const unavailable = (what: string, err: unknown) => {
    const reason = isCustosError(err)
      ? `${err.code}: ${err.message}`
      : err instanceof Error
        ? err.name
        : 'unknown error';
    // No PKCS#11 message holds the PIN; scrubbed anyway in case a module echoes it.
    return new ServerError(
      'ERR_SEAL_UNAVAILABLE',
      `${description}: ${what} failed: ${reason.split(settings.pin).join('[pin]')}`,
    );
  };

  /** Runs `work` in a logged-in session of the token, then logs out and releases the module. */
  const withSession = async <T>(
    what: string,
    work: (library: Pkcs11Library, session: Buffer) => T,
  ): Promise<T> => {
    if (refusedLogin !== undefined)
      throw unavailable(
        what,
        new CustosError(
          'ERR_KMS_LOGIN_FAILED',
          `${refusedLogin.message}; not tried again so the token does not lock the PIN: fix the PIN and restart the server`,
        ),
      );
    let library: Pkcs11Library;
    try {
      library = await loadPkcs11Library(settings.lib);
    } catch (err) {
      throw unavailable(what, err);
    }
    const { binding, pkcs11 } = library;
    let session: Buffer | undefined;
    let slotKey = '';
    let loggedIn = false;
    try {
      const slot = pickSlot(library, settings);
      slotKey = slot.toString('hex');
      session = pkcs11.C_OpenSession(slot, binding.CKF_SERIAL_SESSION | binding.CKF_RW_SESSION);
      try {
        login(library, session, slotKey, settings.pin);
      } catch (err) {
        if (isCustosError(err) && err.code === 'ERR_KMS_LOGIN_FAILED') refusedLogin = err;
        throw err;
      }
      loggedIn = true;
      return work(library, session);
    } catch (err) {
      throw unavailable(
        what,
        isCustosError(err) ? err : pkcs11Failure(binding, err, 'opening a session'),
      );
    } finally {
      if (loggedIn) {
        const held = library.logins.get(slotKey);
        if (held !== undefined && --held.sessions === 0) library.logins.delete(slotKey);
      }
      try {
        // Closing the application's last session with the token logs it out.
        if (session !== undefined) pkcs11.C_CloseSession(session);
      } catch {
        // The operation's own outcome is the one to report.
      }
      library.release();
    }
  };

  return {
    type: 'pkcs11',
    description,
    async wrap(rootKey: Buffer): Promise<WrappedRootKey> {
      return withSession('wrapping the root key', (library, session) => {
        const { binding, pkcs11 } = library;
        const call = <T>(doing: string, fn: () => T): T => {
          try {
            return fn();
          } catch (err) {
            throw isCustosError(err) ? err : pkcs11Failure(binding, err, doing);
          }
        };
        let versions = call('finding the seal key', () =>
          findKeyVersions(binding, pkcs11, session, settings.keyLabel),
        );
        if (versions.size === 0 && config.generate_key === true) {
          call('generating the seal key', () =>
            generateSealKey(library, session, settings.keyLabel),
          );
          versions = call('finding the seal key', () =>
            findKeyVersions(binding, pkcs11, session, settings.keyLabel),
          );
        }
        if (versions.size === 0)
          throw new CustosError(
            'ERR_KEY_NOT_FOUND',
            `the token holds no AES key labelled ${JSON.stringify(settings.keyLabel)} (create it, or set "generate_key": true)`,
          );
        const keyVersion = Math.max(...versions.keys());
        const key = versions.get(keyVersion) as Buffer;
        const body = call(`wrapping with ${settings.mechanism}`, () =>
          settings.mechanism === 'CKM_AES_GCM'
            ? gcmWrap(library, session, key, rootKey)
            : keyWrap(library, session, key, rootKey),
        );
        return {
          type: 'pkcs11',
          ciphertext: `${TAGS[settings.mechanism]}:${body.toString('base64')}`,
          keyVersion,
          keyId: settings.keyLabel,
        };
      });
    },
    async unwrap(wrapped: WrappedRootKey): Promise<Buffer> {
      if (wrapped.type !== 'pkcs11' || wrapped.keyId !== settings.keyLabel)
        throw new ServerError(
          'ERR_SEAL_UNAVAILABLE',
          `${description}: the stored root key was wrapped by ${wrapped.type} key ${JSON.stringify(wrapped.keyId)}`,
        );
      const match = /^(gcm|kwp):([A-Za-z0-9+/]+={0,2})$/.exec(wrapped.ciphertext);
      if (match === null)
        throw new ServerError('ERR_STORAGE_INTEGRITY', 'the wrapped root key is malformed');
      const body = Buffer.from(match[2] as string, 'base64');
      return withSession('unwrapping the root key', (library, session) => {
        const { binding, pkcs11 } = library;
        const versions = findKeyVersions(binding, pkcs11, session, settings.keyLabel);
        const key = versions.get(wrapped.keyVersion);
        if (key === undefined)
          throw new CustosError(
            'ERR_KEY_NOT_FOUND',
            versions.size === 0
              ? `the token holds no AES key labelled ${JSON.stringify(settings.keyLabel)}`
              : `the token holds no version ${wrapped.keyVersion} (CKA_ID) of key ${JSON.stringify(settings.keyLabel)}`,
          );
        try {
          const rootKey =
            match[1] === 'gcm'
              ? gcmUnwrap(library, session, key, body)
              : keyUnwrap(library, session, key, body);
          if (rootKey.length !== ROOT_KEY_BYTES) {
            rootKey.fill(0);
            throw new CustosError('ERR_DECRYPTION_FAILED', 'the unwrapped value is not a root key');
          }
          return rootKey;
        } catch (err) {
          if (isCustosError(err)) throw err;
          const code = err instanceof binding.Pkcs11Error ? returnValueName(binding, err.code) : '';
          throw new CustosError(
            'ERR_DECRYPTION_FAILED',
            `the seal key did not open the stored root key${code === '' ? '' : ` (${code})`}: another key with the same label, or altered storage`,
          );
        }
      });
    },
  };
}

/** The slot by number (`slot`), by token label, or the first slot holding a token. */
function pickSlot(library: Pkcs11Library, settings: Resolved): Buffer {
  const { binding, pkcs11 } = library;
  if (settings.slot === undefined) return findSlot(binding, pkcs11, settings.tokenLabel);
  for (const slot of pkcs11.C_GetSlotList(true)) {
    const id = slot.length >= 8 ? slot.readBigUInt64LE(0) : BigInt(slot.readUInt32LE(0));
    if (id === settings.slot) return slot;
  }
  throw new CustosError(
    'ERR_KEY_NOT_FOUND',
    `no token is present in PKCS#11 slot ${settings.slot}`,
  );
}

/** An AES-256 token key that never leaves the token, for encrypt/decrypt and wrap/unwrap. */
function generateSealKey(library: Pkcs11Library, session: Buffer, label: string): void {
  const { binding, pkcs11 } = library;
  pkcs11.C_GenerateKey(session, { mechanism: binding.CKM_AES_KEY_GEN }, [
    { type: binding.CKA_CLASS, value: binding.CKO_SECRET_KEY },
    { type: binding.CKA_KEY_TYPE, value: binding.CKK_AES },
    { type: binding.CKA_VALUE_LEN, value: 32 },
    { type: binding.CKA_LABEL, value: label },
    { type: binding.CKA_ID, value: Buffer.from('1') },
    { type: binding.CKA_TOKEN, value: true },
    { type: binding.CKA_PRIVATE, value: true },
    { type: binding.CKA_SENSITIVE, value: true },
    { type: binding.CKA_EXTRACTABLE, value: false },
    { type: binding.CKA_ENCRYPT, value: true },
    { type: binding.CKA_DECRYPT, value: true },
    { type: binding.CKA_WRAP, value: true },
    { type: binding.CKA_UNWRAP, value: true },
  ]);
}

function gcmParameters(library: Pkcs11Library, iv: Buffer) {
  const { binding } = library;
  return {
    mechanism: binding.CKM_AES_GCM,
    parameter: {
      type: binding.CK_PARAMS_GCM,
      iv,
      ivBits: IV_BYTES * 8,
      aad: CONTEXT,
      tagBits: TAG_BYTES * 8,
    },
  };
}

/** `iv ‖ ciphertext ‖ tag`, encrypted on the token (the IV from node:crypto). */
function gcmWrap(library: Pkcs11Library, session: Buffer, key: Buffer, rootKey: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  library.pkcs11.C_EncryptInit(session, gcmParameters(library, iv), key);
  const sealed = library.pkcs11.C_Encrypt(
    session,
    rootKey,
    Buffer.alloc(rootKey.length + TAG_BYTES),
  );
  return Buffer.concat([iv, sealed]);
}

function gcmUnwrap(library: Pkcs11Library, session: Buffer, key: Buffer, body: Buffer): Buffer {
  if (body.length !== IV_BYTES + ROOT_KEY_BYTES + TAG_BYTES)
    throw new CustosError('ERR_DECRYPTION_FAILED', 'the wrapped root key has the wrong length');
  const iv = Buffer.from(body.subarray(0, IV_BYTES));
  const sealed = Buffer.from(body.subarray(IV_BYTES));
  library.pkcs11.C_DecryptInit(session, gcmParameters(library, iv), key);
  return library.pkcs11.C_Decrypt(session, sealed, Buffer.alloc(sealed.length));
}

/** The root key as a session object (never on the token's storage), wrapped, then destroyed. */
function keyWrap(library: Pkcs11Library, session: Buffer, key: Buffer, rootKey: Buffer): Buffer {
  const { binding, pkcs11 } = library;
  const object = pkcs11.C_CreateObject(session, [
    { type: binding.CKA_CLASS, value: binding.CKO_SECRET_KEY },
    { type: binding.CKA_KEY_TYPE, value: binding.CKK_GENERIC_SECRET },
    { type: binding.CKA_TOKEN, value: false },
    { type: binding.CKA_SENSITIVE, value: false },
    { type: binding.CKA_EXTRACTABLE, value: true },
    { type: binding.CKA_VALUE, value: rootKey },
  ]);
  try {
    return pkcs11.C_WrapKey(
      session,
      { mechanism: binding.CKM_AES_KEY_WRAP_PAD },
      key,
      object,
      Buffer.alloc(rootKey.length + 16),
    );
  } finally {
    pkcs11.C_DestroyObject(session, object);
  }
}

function keyUnwrap(library: Pkcs11Library, session: Buffer, key: Buffer, body: Buffer): Buffer {
  const { binding, pkcs11 } = library;
  const object = pkcs11.C_UnwrapKey(
    session,
    { mechanism: binding.CKM_AES_KEY_WRAP_PAD },
    key,
    body,
    [
      { type: binding.CKA_CLASS, value: binding.CKO_SECRET_KEY },
      { type: binding.CKA_KEY_TYPE, value: binding.CKK_GENERIC_SECRET },
      { type: binding.CKA_TOKEN, value: false },
      { type: binding.CKA_SENSITIVE, value: false },
      { type: binding.CKA_EXTRACTABLE, value: true },
    ],
  );
  try {
    const [value] = pkcs11.C_GetAttributeValue(session, object, [{ type: binding.CKA_VALUE }]);
    if (!Buffer.isBuffer(value?.value))
      throw new CustosError('ERR_DECRYPTION_FAILED', 'the unwrapped root key has no value');
    return value.value;
  } finally {
    pkcs11.C_DestroyObject(session, object);
  }
}
