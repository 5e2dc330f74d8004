import type { DerivedKey, Keyring } from '../crypto/index.js';
import { CustosError, KeyNotFound } from '../errors/index.js';
import {
  argon2BlindIndex,
  argon2BlindIndexSync,
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
  /** The key blind-index keys are derived from. */
  readonly blindIndexKeyName: string;
}

/**
 * Deterministic encryption and blind indexes over a keyring. Shared by both field-cipher modes:
 * searchable values need a key that is the same for every row, which a random per-tenant data
 * key from a KMS cannot give.
 */
export function createSearchKeys(keyring: Keyring, names: SearchKeyNames) {
  const { deterministicKeyName, blindIndexKeyName } = names;

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

  // Column keys at the primary version: method → table → column → tenant. The primary is always
  // enabled (a keyring invariant), so a cached key stays valid until the primary changes.
  const primaryKeys = new Map<string, Map<string, Map<string, Map<string, DerivedKey>>>>();
  let cachedKeys = 0;
  function columnKey(scope: BlindIndexScope, method: Method, version: number | undefined) {
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

  function prepare(value: FieldValue, options: BlindIndexOptions) {
    const scope = blindIndexScope(options);
    const bits = blindIndexBits(options);
    const message = blindIndexMessage(value, options);
    const slow = options.slow === undefined || options.slow === false ? undefined : options.slow;
    const derived = columnKey(scope, slow === undefined ? 'hmac' : 'argon2id', options.version);
    return { bits, message, slow, derived };
  }

  function blindIndex(value: FieldValue, options: BlindIndexOptions): string {
    const { bits, message, slow, derived } = prepare(value, options);
    return slow === undefined
      ? hmacBlindIndex(derived.key, derived.keyVersion, message, bits)
      : argon2BlindIndexSync(derived.key, derived.keyVersion, message, bits, slow);
  }

  async function blindIndexAsync(value: FieldValue, options: BlindIndexOptions): Promise<string> {
    const { bits, message, slow, derived } = prepare(value, options);
    return slow === undefined
      ? hmacBlindIndex(derived.key, derived.keyVersion, message, bits)
      : argon2BlindIndex(derived.key, derived.keyVersion, message, bits, slow);
  }

  function blindIndexVersions(): number[] {
    return readableVersions(keyring, blindIndexKeyName);
  }

  return {
    sealDeterministic,
    encryptDeterministic,
    deterministicCandidates,
    blindIndex,
    blindIndexAsync,
    blindIndexVersions,
    requireDeterministicKey,
  };
}

type Method = 'hmac' | 'argon2id';

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
