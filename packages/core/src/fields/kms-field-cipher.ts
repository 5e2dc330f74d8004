import { type Keyring, parseEnvelope } from '../crypto/index.js';
import { CustosError, DecryptionFailed } from '../errors/index.js';
import type { MetricsHooks } from '../metrics/hooks.js';
import { DEFAULT_BLIND_INDEX_KEY_NAME } from './blind-index.js';
import { BoundedCache } from './bounded-cache.js';
import { bindContext, cryptOptions } from './context.js';
import { DATA_KEY, type DataKey, importDataKey } from './data-key.js';
import { fieldDecryptionError } from './decryption-failure.js';
import {
  isDeterministicEnvelope,
  joinWrappedKey,
  keyNameById,
  requireFieldCiphertext,
  splitWrappedKey,
} from './envelope-peek.js';
import type { DataKeyContext, FieldKms, KmsKeyVersion } from './field-kms.js';
import { createSearchKeys, type SearchKeys } from './search-keys.js';
import type {
  AsyncFieldCipher,
  CiphertextInfo,
  CurrentKeys,
  FieldContext,
  FieldIdentifier,
  FieldValue,
} from './types.js';
import { decodeFieldValue, encodeFieldValue } from './value-codec.js';

/** Limits of the data-key caches (one entry per tenant for encryption, per wrapped key for decryption). */
export interface DataKeyCacheOptions {
  /** Unwrapped data keys held; default 1000. */
  readonly maxEntries?: number;
  /** How long an unwrapped key is held, and how long one data key keeps encrypting; default 300. */
  readonly ttlSeconds?: number;
  /** Encryptions per data key before a new one is generated; default 1,000,000. */
  readonly maxUses?: number;
  /** Clock in milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

/** Options of a field cipher over a KMS (envelope encryption with per-tenant data keys). */
export interface KmsFieldCipherOptions {
  readonly kms: FieldKms;
  /**
   * A keyring for what random data keys cannot do: deterministic columns and blind indexes
   * (which need one key for every row), and reading values written in keyring mode.
   */
  readonly keyring?: Keyring;
  /** In `keyring`: the deterministic key; default `deterministic`. */
  readonly deterministicKeyName?: string;
  /**
   * In `keyring`: the key blind indexes come from, used for nothing else; default
   * `blind-index`. Rotating it is a deliberate step followed by `custos reencrypt --blind-index`.
   */
  readonly blindIndexKeyName?: string;
  /**
   * In `keyring`: the key that indexes written before blind indexes had a key of their own
   * (`v<version>.…`) were derived from (it was `blindIndexKeyName`, default `default`). Lookup
   * candidates then match them too; drop it once `custos reencrypt --blind-index` is done.
   */
  readonly legacyBlindIndexKeyName?: string;
  readonly dataKeyCache?: DataKeyCacheOptions;
  /** Counts values that fail to decrypt, by table and column (`@custos/core/metrics`). */
  readonly metrics?: MetricsHooks;
}

/** Builds the KMS-mode cipher (see `createFieldCipher`). */
export function createKmsFieldCipher(options: KmsFieldCipherOptions): AsyncFieldCipher {
  const { kms, keyring } = options;
  const limits = options.dataKeyCache ?? {};
  const maxUses = limits.maxUses ?? 1_000_000;
  const cacheOptions = {
    maxEntries: limits.maxEntries ?? 1000,
    ttlSeconds: limits.ttlSeconds ?? 300,
    ...(limits.now === undefined ? {} : { now: limits.now }),
  };
  const encryptionKeys = new BoundedCache<DataKey>(cacheOptions);
  const decryptionKeys = new BoundedCache<DataKey>(cacheOptions);
  // Asked at most once a second: re-encryption must not keep using a data key wrapped by a
  // KMS key version that was just rotated out.
  const currentKmsKey = new BoundedCache<KmsKeyVersion>({ ...cacheOptions, ttlSeconds: 1 });
  const deterministicKeyName = options.deterministicKeyName ?? 'deterministic';
  const search: SearchKeys | undefined =
    keyring === undefined
      ? undefined
      : createSearchKeys(keyring, {
          deterministicKeyName,
          blindIndexKeyName: options.blindIndexKeyName ?? DEFAULT_BLIND_INDEX_KEY_NAME,
          legacyBlindIndexKeyName: options.legacyBlindIndexKeyName,
          encryptionKeyNames: [],
        });

  function needSearch(what: string): SearchKeys {
    if (search === undefined) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `${what} needs a keyring: createFieldCipher({ kms, keyring })`,
      );
    }
    return search;
  }

  async function newDataKey(tenantId: FieldIdentifier | undefined): Promise<DataKey> {
    const { plaintext, wrapped } = await kms.generateDataKey(dataKeyContext(tenantId));
    const key = importDataKey(plaintext, wrapped);
    decryptionKeys.set(decryptionCacheKey(tenantId, wrapped), key);
    return key;
  }

  async function encryptionKey(tenantId: FieldIdentifier | undefined): Promise<DataKey> {
    const cacheKey = tenantCacheKey(tenantId);
    let key = await encryptionKeys.getOrLoad(cacheKey, () => newDataKey(tenantId));
    if (key.uses >= maxUses) {
      encryptionKeys.delete(cacheKey);
      key = await encryptionKeys.getOrLoad(cacheKey, () => newDataKey(tenantId));
    }
    key.uses++;
    return key;
  }

  function decryptionKey(wrapped: string, tenantId: FieldIdentifier | undefined) {
    return decryptionKeys.getOrLoad(decryptionCacheKey(tenantId, wrapped), async () =>
      importDataKey(await kms.unwrapDataKey(wrapped, dataKeyContext(tenantId)), wrapped),
    );
  }

  function kmsCurrentKey(): Promise<KmsKeyVersion> {
    return currentKmsKey.getOrLoad('current', () => kms.currentKey());
  }

  async function currentKeys(): Promise<CurrentKeys> {
    const randomized = await kmsCurrentKey();
    const deterministic = keyring?.has(deterministicKeyName)
      ? keyring.info(deterministicKeyName)
      : undefined;
    const blindIndex = search?.currentBlindIndexKey();
    return {
      randomized,
      ...(deterministic === undefined
        ? {}
        : { deterministic: { keyId: deterministic.id, keyVersion: deterministic.primaryVersion } }),
      ...(blindIndex === undefined ? {} : { blindIndex }),
    };
  }

  /** Decrypts to the encoded plaintext, whichever way the value was written. */
  async function open(ciphertext: string, context: FieldContext, expectMode: boolean) {
    const text = requireFieldCiphertext(ciphertext, context);
    const { envelope, wrappedKey } = splitWrappedKey(text);
    const deterministic = wrappedKey === undefined && isDeterministicEnvelope(envelope);
    const bound = bindContext(context, deterministic);
    if (expectMode && deterministic !== (context.deterministic === true)) {
      throw fieldDecryptionError(
        new DecryptionFailed(
          `decryption failed: ${context.table}.${context.column} holds a ${deterministic ? 'deterministic' : 'randomised'} ciphertext but the context says otherwise`,
        ),
        context,
        options.metrics,
      );
    }
    if (wrappedKey === undefined) {
      // Deterministic values, and values written in keyring mode before a move to a KMS.
      if (keyring === undefined) {
        throw new DecryptionFailed(
          'decryption failed: this value was encrypted with a keyring, and no keyring was given',
        );
      }
      try {
        return { deterministic, plaintext: keyring.decrypt(envelope, cryptOptions(bound)) };
      } catch (err) {
        throw fieldDecryptionError(err, context, options.metrics);
      }
    }
    try {
      const key = await decryptionKey(wrappedKey, tenantOf(context));
      return { deterministic, plaintext: key.keyring.decrypt(envelope, { aad: bound.aad }) };
    } catch (err) {
      throw fieldDecryptionError(err, context, options.metrics);
    }
  }

  async function sealRandomized(plaintext: Buffer, context: FieldContext, fresh: boolean) {
    const bound = bindContext(context, false);
    const tenantId = tenantOf(context);
    let key = await encryptionKey(tenantId);
    if (fresh) {
      const current = await kmsCurrentKey();
      const wrappedBy = kms.describeWrappedKey(key.wrapped);
      if (wrappedBy.keyId !== current.keyId || wrappedBy.keyVersion !== current.keyVersion) {
        encryptionKeys.delete(tenantCacheKey(tenantId));
        key = await encryptionKey(tenantId);
      }
    }
    const envelope = key.keyring.encryptToString(DATA_KEY, plaintext, { aad: bound.aad });
    return joinWrappedKey(envelope, key.wrapped);
  }

  return {
    mode: 'kms',
    async encrypt(value, context) {
      if (context?.deterministic === true) {
        return needSearch('a deterministic column').encryptDeterministic(value, context);
      }
      return sealRandomized(encodeFieldValue(value, context?.padding), context, false);
    },
    async decrypt<T extends FieldValue = FieldValue>(ciphertext: string, context: FieldContext) {
      return decodeFieldValue((await open(ciphertext, context, true)).plaintext) as T;
    },
    async blindIndex(value, blindIndexOptions) {
      return needSearch('a blind index').blindIndexAsync(value, blindIndexOptions);
    },
    async blindIndexCandidates(value, blindIndexOptions) {
      return needSearch('a blind index').blindIndexCandidatesAsync(value, blindIndexOptions);
    },
    async deterministicCandidates(value, context) {
      return needSearch('a deterministic column').deterministicCandidates(value, context);
    },
    async reencrypt(ciphertext, context) {
      const { deterministic, plaintext } = await open(ciphertext, context, false);
      if (!deterministic) return sealRandomized(plaintext, context, true);
      return needSearch('a deterministic column').sealDeterministic(plaintext, context);
    },
    async describe(ciphertext): Promise<CiphertextInfo> {
      const { envelope, wrappedKey } = splitWrappedKey(ciphertext);
      const current = await currentKeys();
      if (wrappedKey !== undefined) {
        const wrappedBy = kms.describeWrappedKey(wrappedKey);
        return {
          ...wrappedBy,
          keyName: keyring === undefined ? undefined : keyNameById(keyring, wrappedBy.keyId),
          deterministic: false,
          current:
            wrappedBy.keyId === current.randomized.keyId &&
            wrappedBy.keyVersion === current.randomized.keyVersion,
        };
      }
      const { keyId, keyVersion, algorithm } = parseEnvelope(envelope);
      const deterministic = algorithm === 'aes-256-gcm-siv';
      return {
        keyId,
        keyVersion,
        keyName: keyring === undefined ? undefined : keyNameById(keyring, keyId),
        deterministic,
        // A plain randomised envelope was written in keyring mode: never current here.
        current:
          deterministic &&
          current.deterministic?.keyId === keyId &&
          current.deterministic.keyVersion === keyVersion,
      };
    },
    currentKeys,
  };
}

/**
 * The tenant of a context as the data keys see it: a null tenant id is no tenant, as it is in
 * the field's associated data and key context (a nullable tenant column reads as null).
 */
function tenantOf(context: FieldContext): FieldIdentifier | undefined {
  return context.tenantId ?? undefined;
}

function dataKeyContext(tenantId: FieldIdentifier | undefined): DataKeyContext {
  return tenantId === undefined ? {} : { tenantId };
}

function tenantCacheKey(tenantId: FieldIdentifier | undefined): string {
  return tenantId === undefined ? '-' : `t${String(tenantId)}`;
}

function decryptionCacheKey(tenantId: FieldIdentifier | undefined, wrapped: string): string {
  return `${tenantCacheKey(tenantId)}\u0000${wrapped}`;
}
