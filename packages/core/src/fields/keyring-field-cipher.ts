import { type Keyring, parseEnvelope } from '../crypto/index.js';
import { CustosError, DecryptionFailed, KeyNotFound } from '../errors/index.js';
import type { MetricsHooks } from '../metrics/hooks.js';
import { DEFAULT_BLIND_INDEX_KEY_NAME } from './blind-index.js';
import { bindContext, cryptOptions } from './context.js';
import { fieldDecryptionError } from './decryption-failure.js';
import { isDeterministicEnvelope, keyNameById, requireFieldCiphertext } from './envelope-peek.js';
import { createSearchKeys } from './search-keys.js';
import type {
  CiphertextInfo,
  CurrentKeys,
  FieldCipher,
  FieldContext,
  FieldValue,
} from './types.js';
import { decodeFieldValue, encodeFieldValue } from './value-codec.js';

/** Options of a field cipher over a local keyring. */
export interface KeyringFieldCipherOptions {
  readonly keyring: Keyring;
  /** The AES-256-GCM (or ChaCha20-Poly1305) key that encrypts; default `default`. */
  readonly keyName?: string;
  /** The `aes-256-gcm-siv` key of deterministic columns; default `deterministic`. */
  readonly deterministicKeyName?: string;
  /**
   * The key blind indexes come from, used for nothing else (never `keyName`); default
   * `blind-index`. Rotating it is a deliberate step followed by `custos reencrypt --blind-index`.
   */
  readonly blindIndexKeyName?: string;
  /**
   * The key that indexes written before blind indexes had a key of their own (`v<version>.…`)
   * were derived from (it was `blindIndexKeyName`, which defaulted to `keyName`). Lookup
   * candidates then match them too; drop it once `custos reencrypt --blind-index` is done.
   */
  readonly legacyBlindIndexKeyName?: string;
  /** Counts values that fail to decrypt, by table and column (`@custos/core/metrics`). */
  readonly metrics?: MetricsHooks;
}

/** Builds the keyring-mode cipher (see `createFieldCipher`). */
export function createKeyringFieldCipher(options: KeyringFieldCipherOptions): FieldCipher {
  const { keyring } = options;
  const keyName = options.keyName ?? 'default';
  const deterministicKeyName = options.deterministicKeyName ?? 'deterministic';
  if (!keyring.has(keyName)) {
    throw new KeyNotFound(
      `the keyring has no key "${keyName}" (create one with custos keyring create, or pass keyName)`,
    );
  }
  if (keyring.info(keyName).algorithm === 'aes-256-gcm-siv') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `key "${keyName}" is deterministic; field encryption needs a randomised key (aes-256-gcm)`,
    );
  }
  const search = createSearchKeys(keyring, {
    deterministicKeyName,
    blindIndexKeyName: options.blindIndexKeyName ?? DEFAULT_BLIND_INDEX_KEY_NAME,
    legacyBlindIndexKeyName: options.legacyBlindIndexKeyName,
    encryptionKeyNames: [keyName],
  });

  function open(ciphertext: string, context: FieldContext, expectMode: boolean): Buffer {
    const text = requireFieldCiphertext(ciphertext, context);
    const deterministic = isDeterministicEnvelope(text);
    const bound = bindContext(context, deterministic);
    if (expectMode && deterministic !== (context.deterministic === true)) {
      throw fieldDecryptionError(
        new DecryptionFailed(
          `decryption failed: ${context.table}.${context.column} holds a ${deterministic ? 'deterministic' : 'randomised'} ciphertext but the context says ${deterministic ? 'randomised' : 'deterministic'}`,
        ),
        context,
        options.metrics,
      );
    }
    try {
      return keyring.decrypt(text, cryptOptions(bound));
    } catch (err) {
      throw fieldDecryptionError(err, context, options.metrics);
    }
  }

  function currentKeys(): CurrentKeys {
    const random = keyring.info(keyName);
    const deterministic = keyring.has(deterministicKeyName)
      ? keyring.info(deterministicKeyName)
      : undefined;
    const blindIndex = search.currentBlindIndexKey();
    return {
      randomized: { keyId: random.id, keyVersion: random.primaryVersion },
      ...(deterministic === undefined
        ? {}
        : { deterministic: { keyId: deterministic.id, keyVersion: deterministic.primaryVersion } }),
      ...(blindIndex === undefined ? {} : { blindIndex }),
    };
  }

  return {
    mode: 'keyring',
    encrypt(value: FieldValue, context: FieldContext): string {
      if (context?.deterministic === true) return search.encryptDeterministic(value, context);
      const plaintext = encodeFieldValue(value, context?.padding);
      return keyring.encryptToString(keyName, plaintext, cryptOptions(bindContext(context, false)));
    },
    decrypt<T extends FieldValue = FieldValue>(ciphertext: string, context: FieldContext): T {
      return decodeFieldValue(open(ciphertext, context, true)) as T;
    },
    blindIndex: search.blindIndex,
    blindIndexCandidates: search.blindIndexCandidates,
    deterministicCandidates: search.deterministicCandidates,
    reencrypt(ciphertext: string, context: FieldContext): string {
      const plaintext = open(ciphertext, context, false);
      if (isDeterministicEnvelope(ciphertext)) return search.sealDeterministic(plaintext, context);
      return keyring.encryptToString(keyName, plaintext, cryptOptions(bindContext(context, false)));
    },
    describe(ciphertext: string): CiphertextInfo {
      const { keyId, keyVersion, algorithm } = parseEnvelope(ciphertext);
      const deterministic = algorithm === 'aes-256-gcm-siv';
      const current = currentKeys();
      const target = deterministic ? current.deterministic : current.randomized;
      return {
        keyId,
        keyName: keyNameById(keyring, keyId),
        keyVersion,
        deterministic,
        current: target?.keyId === keyId && target.keyVersion === keyVersion,
      };
    },
    currentKeys,
  };
}
