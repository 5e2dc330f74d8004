import type { DerivedKey, Keyring } from '../crypto/index.js';
import { CustosError, KeyNotFound } from '../errors/index.js';
import {
  argon2BlindIndex,
  argon2BlindIndexSync,
  type BlindIndexPrefix,
  blindIndexBits,
  blindIndexMessage,
  hmacBlindIndex,
} from './blind-index.js';
import {
  type BlindIndexScope,
  bindContext,
  blindIndexPurpose,
  blindIndexScope,
  cryptOptions,
} from './context.js';
import { getOrCreate } from './get-or-create.js';
import type { BlindIndexOptions, FieldContext, FieldValue } from './types.js';
import { encodeFieldValue } from './value-codec.js';

/** Names of the keyring keys behind searchable columns. */
export interface SearchKeyNames {
  /** The `aes-256-gcm-siv` key of deterministic columns. */
  readonly deterministicKeyName: string;
  /** The key blind-index keys are derived from, used for nothing else. */
  readonly blindIndexKeyName: string;
  /**
   * The key legacy indexes (`v<version>.`) were derived from, before blind indexes had a key of
   * their own: lookup candidates cover its readable versions too, until a backfill is done.
   */
  readonly legacyBlindIndexKeyName?: string | undefined;
  /** Keys the blind-index key must not be (the keys that encrypt). */
  readonly encryptionKeyNames: readonly string[];
}

/**
 * Deterministic encryption and blind indexes over a keyring. Shared by both field-cipher modes:
 * searchable values need a key that is the same for every row, which a random per-tenant data
 * key from a KMS cannot give.
 */
export function createSearchKeys(keyring: Keyring, names: SearchKeyNames) {
  const { deterministicKeyName, blindIndexKeyName, legacyBlindIndexKeyName } = names;
  if ([...names.encryptionKeyNames, deterministicKeyName].includes(blindIndexKeyName)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `blindIndexKeyName "${blindIndexKeyName}" is an encryption key; blind indexes need a key of their own, or every rotation of the encryption key changes them`,
    );
  }
  if (legacyBlindIndexKeyName === blindIndexKeyName) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `legacyBlindIndexKeyName names the blind-index key "${blindIndexKeyName}"; it is the key legacy indexes were derived from (the encryption key)`,
    );
  }

  function requireDeterministicKey(): void {
    if (!keyring.has(deterministicKeyName)) {
      throw new KeyNotFound(
        `deterministic columns need an aes-256-gcm-siv key named "${deterministicKeyName}": custos keyring add --file <keyring> --name ${deterministicKeyName} --algorithm aes-256-gcm-siv`,
      );
    }
    if (keyring.info(deterministicKeyName).algorithm !== 'aes-256-gcm-siv') {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `key "${deterministicKeyName}" must be aes-256-gcm-siv to encrypt deterministically`,
      );
    }
  }

  /** Encrypts already-encoded plaintext deterministically (also used to re-encrypt). */
  function sealDeterministic(plaintext: Buffer, context: FieldContext): string {
    requireDeterministicKey();
    return keyring.encryptToString(
      deterministicKeyName,
      plaintext,
      cryptOptions(bindContext(context, true)),
    );
  }

  function encryptDeterministic(value: FieldValue, context: FieldContext): string {
    return sealDeterministic(encodeFieldValue(value, context.padding), context);
  }

  function deterministicCandidates(value: FieldValue, context: FieldContext): string[] {
    requireDeterministicKey();
    const options = cryptOptions(bindContext(context, true));
    const plaintext = encodeFieldValue(value, context.padding);
    return readableVersions(keyring, deterministicKeyName).map((version) =>
      keyring.encryptToString(deterministicKeyName, plaintext, { ...options, version }),
    );
  }

  function requireBlindIndexKey(): void {
    if (!keyring.has(blindIndexKeyName)) {
      throw new KeyNotFound(
        `blind indexes need a key of their own named "${blindIndexKeyName}" (never the encryption key): custos keyring add --file <keyring> --name ${blindIndexKeyName}; indexes written before it existed still match with legacyBlindIndexKeyName until custos reencrypt --blind-index has rewritten them (docs/field-encryption.md)`,
      );
    }
  }

  // Column keys at the primary version: method → table → column → tenant. The primary is always
  // enabled (a keyring invariant), so a cached key stays valid until the primary changes.
  const primaryKeys = new Map<string, Map<string, Map<string, Map<string, DerivedKey>>>>();
  let cachedKeys = 0;
  function columnKey(scope: BlindIndexScope, method: Method, version: number | undefined) {
    requireBlindIndexKey();
    if (version !== undefined) {
      return keyring.deriveKey(blindIndexKeyName, blindIndexPurpose(scope, method), { version });
    }
    const primary = keyring.info(blindIndexKeyName).primaryVersion;
    const tenants = nested(nested(nested(primaryKeys, method), scope.table), scope.column);
    const tenant = scope.tenant ?? '';
    const cached = tenants.get(tenant);
    if (cached?.keyVersion === primary) return cached;
    const derived = keyring.deriveKey(blindIndexKeyName, blindIndexPurpose(scope, method));
    if (++cachedKeys > 4096) {
      primaryKeys.clear();
      cachedKeys = 0;
    }
    tenants.set(tenant, derived);
    return derived;
  }

  /** The column keys a lookup must try: every readable blind-index key version, then legacy. */
  function candidateKeys(scope: BlindIndexScope, method: Method): IndexKey[] {
    requireBlindIndexKey();
    const keys: IndexKey[] = readableVersions(keyring, blindIndexKeyName).map((version) => ({
      prefix: 'b',
      derived: columnKey(scope, method, version),
    }));
    if (legacyBlindIndexKeyName === undefined) return keys;
    if (!keyring.has(legacyBlindIndexKeyName)) {
      throw new KeyNotFound(
        `legacyBlindIndexKeyName names "${legacyBlindIndexKeyName}", which the keyring does not hold`,
      );
    }
    for (const version of readableVersions(keyring, legacyBlindIndexKeyName)) {
      const purpose = blindIndexPurpose(scope, method);
      const derived = keyring.deriveKey(legacyBlindIndexKeyName, purpose, { version });
      keys.push({ prefix: 'v', derived });
    }
    return keys;
  }

  function prepare(value: FieldValue, options: BlindIndexOptions) {
    const scope = blindIndexScope(options);
    const bits = blindIndexBits(options);
    const message = blindIndexMessage(value, options);
    const slow = options.slow === undefined || options.slow === false ? undefined : options.slow;
    return {
      scope,
      bits,
      message,
      slow,
      method: (slow === undefined ? 'hmac' : 'argon2id') as Method,
    };
  }

  function computeSync(p: ReturnType<typeof prepare>, { prefix, derived }: IndexKey): string {
    return p.slow === undefined
      ? hmacBlindIndex(prefix, derived.key, derived.keyVersion, p.message, p.bits)
      : argon2BlindIndexSync(prefix, derived.key, derived.keyVersion, p.message, p.bits, p.slow);
  }

  function computeAsync(p: ReturnType<typeof prepare>, { prefix, derived }: IndexKey) {
    return p.slow === undefined
      ? Promise.resolve(hmacBlindIndex(prefix, derived.key, derived.keyVersion, p.message, p.bits))
      : argon2BlindIndex(prefix, derived.key, derived.keyVersion, p.message, p.bits, p.slow);
  }

  function primaryKey(p: ReturnType<typeof prepare>, options: BlindIndexOptions): IndexKey {
    return { prefix: 'b', derived: columnKey(p.scope, p.method, options.version) };
  }

  function blindIndex(value: FieldValue, options: BlindIndexOptions): string {
    const p = prepare(value, options);
    return computeSync(p, primaryKey(p, options));
  }

  async function blindIndexAsync(value: FieldValue, options: BlindIndexOptions): Promise<string> {
    const p = prepare(value, options);
    return computeAsync(p, primaryKey(p, options));
  }

  function blindIndexCandidates(value: FieldValue, options: BlindIndexOptions): string[] {
    const p = prepare(value, options);
    return candidateKeys(p.scope, p.method).map((key) => computeSync(p, key));
  }

  function blindIndexCandidatesAsync(value: FieldValue, options: BlindIndexOptions) {
    const p = prepare(value, options);
    return Promise.all(candidateKeys(p.scope, p.method).map((key) => computeAsync(p, key)));
  }

  /** The blind-index key's id and primary version; undefined while the keyring has none. */
  function currentBlindIndexKey(): { keyId: string; keyVersion: number } | undefined {
    if (!keyring.has(blindIndexKeyName)) return undefined;
    const info = keyring.info(blindIndexKeyName);
    return { keyId: info.id, keyVersion: info.primaryVersion };
  }

  return {
    sealDeterministic,
    encryptDeterministic,
    deterministicCandidates,
    blindIndex,
    blindIndexAsync,
    blindIndexCandidates,
    blindIndexCandidatesAsync,
    currentBlindIndexKey,
    requireDeterministicKey,
  };
}

type Method = 'hmac' | 'argon2id';

/** A column key and the prefix its indexes carry (`b`: blind-index key, `v`: legacy). */
interface IndexKey {
  readonly prefix: BlindIndexPrefix;
  readonly derived: DerivedKey;
}

function nested<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  return getOrCreate(map, key, () => new Map<string, V>());
}

/** The search half of a field cipher. */
export type SearchKeys = ReturnType<typeof createSearchKeys>;

/** Versions of `name` that may still decrypt, primary first, then newest to oldest. */
export function readableVersions(keyring: Keyring, name: string): number[] {
  const info = keyring.info(name);
  const others = info.versions
    .filter(
      (v) =>
        v.version !== info.primaryVersion &&
        v.version >= info.minDecryptionVersion &&
        (v.state === 'enabled' || v.state === 'decrypt-only'),
    )
    .map((v) => v.version)
    .sort((a, b) => b - a);
  return [info.primaryVersion, ...others];
}
