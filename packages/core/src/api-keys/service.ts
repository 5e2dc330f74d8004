import { randomBytes } from 'node:crypto';
import { constantTimeEqual, hmacSha256 } from '../crypto/hmac.js';
import { CustosError } from '../errors/index.js';
import { type PepperSet, resolvePeppers } from '../lib/pepper.js';
import { isSecret, type Secret } from '../redaction/secret.js';
import { ApiKeyRejected } from './errors.js';
import { checkPrefix, generateApiKey, MAX_API_KEY_LENGTH, parseApiKey } from './format.js';
import type { ApiKeyRecord, ApiKeyStore } from './store.js';

/** Options for {@link createApiKeyService}. */
export interface ApiKeyServiceOptions {
  readonly store: ApiKeyStore;
  /** Prefixes this service issues and accepts (the first is the default), e.g. `['acme']`. */
  readonly prefixes: readonly string[];
  /** HMAC keys (at least 32 bytes each) with ids, so they can rotate. */
  readonly peppers: PepperSet;
  /** `lastUsedAt` is written at most this often per key; default 60 seconds. */
  readonly lastUsedResolutionSeconds?: number;
}

/** What to create. */
export interface CreateApiKeyOptions {
  /** One of the service's prefixes; default the first. */
  readonly prefix?: string;
  readonly scopes?: readonly string[];
  readonly expiresAt?: Date | null;
  readonly name?: string | null;
  readonly ownerId?: string | null;
}

/** A new key: `key` is shown to its owner once and never stored. */
export interface CreatedApiKey {
  readonly key: Secret<string>;
  readonly record: ApiKeyRecord;
}

/** Creates, verifies and revokes API keys; see {@link createApiKeyService}. */
export interface ApiKeyService {
  createApiKey(options?: CreateApiKeyOptions): Promise<CreatedApiKey>;
  /**
   * Verifies a presented key and returns its record; throws {@link ApiKeyRejected} with one
   * code per reason (malformed, checksum, prefix, unknown, revoked, expired, missing scope).
   */
  verifyApiKey(
    key: string | Secret<string>,
    options?: { requiredScopes?: readonly string[] },
  ): Promise<ApiKeyRecord>;
  revokeApiKey(keyId: string): Promise<boolean>;
}

/**
 * API keys done as GitHub does tokens: `<prefix>_<key id>_<random><checksum>` (CRC32 in
 * base62, so scanners recognise real keys), stored only as HMAC-SHA256(pepper, key) with
 * scopes, expiry, revocation and last use. Verification finds the record by key id (O(1),
 * unlike checking a bcrypt hash per stored key) and compares HMACs in constant time.
 *
 * Whatever is wrong with a presented key, verification does the same secret-dependent work:
 * one HMAC over the presented text and one constant-time comparison of two 32-byte values
 * (against a random stand-in when there is no record), before deciding which error to throw.
 *
 * @example
 * ```ts
 * const apiKeys = createApiKeyService({
 *   store: createSqlApiKeyStore({ db }),
 *   prefixes: ['acme'],
 *   peppers: { currentId: '1', peppers: { '1': await secrets.getRequiredSecret('API_KEY_PEPPER') } },
 * });
 * const { key } = await apiKeys.createApiKey({ scopes: ['reports:read'], ownerId: user.id });
 * showOnce(key.reveal()); // "acme_4fG8s0aQ2LmZ_…"
 * const record = await apiKeys.verifyApiKey(req.get('x-api-key') ?? '', { requiredScopes: ['reports:read'] }); // Express
 * ```
 */
export function createApiKeyService(options: ApiKeyServiceOptions): ApiKeyService {
  const { store } = options;
  const peppers = resolvePeppers(options.peppers);
  const prefixes = checkPrefixes(options.prefixes);
  const resolutionMs = (options.lastUsedResolutionSeconds ?? 60) * 1000;
  // Compared against when no record exists, so that path does the same work as a mismatch.
  const standIn = randomBytes(32);

  const macOf = (key: string, pepperId: string) => hmacSha256(peppers.get(pepperId), key);

  return {
    async createApiKey(create = {}) {
      const prefix = create.prefix ?? (prefixes[0] as string);
      if (!prefixes.includes(prefix)) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `prefix "${prefix}" is not one of this service's prefixes`,
        );
      }
      const scopes = [...(create.scopes ?? [])];
      if (scopes.some((s) => typeof s !== 'string' || s.length === 0)) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'scopes must be non-empty strings');
      }
      const { key, keyId } = generateApiKey(prefix);
      const text = key.reveal();
      const record: ApiKeyRecord = {
        keyId,
        prefix,
        hmac: macOf(text, peppers.currentId).toString('base64url'),
        pepperId: peppers.currentId,
        scopes,
        name: create.name ?? null,
        ownerId: create.ownerId ?? null,
        createdAt: new Date(),
        expiresAt: create.expiresAt ?? null,
        revokedAt: null,
        lastUsedAt: null,
      };
      await store.insert(record);
      return { key, record };
    },

    async verifyApiKey(presented, verifyOptions = {}) {
      const text = isSecret(presented) ? presented.reveal() : presented;
      const bounded = typeof text === 'string' && text.length <= MAX_API_KEY_LENGTH ? text : '';
      let formatError: ApiKeyRejected | undefined;
      let record: ApiKeyRecord | undefined;
      try {
        const { prefix, keyId } = parseApiKey(text as string);
        if (!prefixes.includes(prefix)) {
          formatError = new ApiKeyRejected(
            'ERR_API_KEY_PREFIX',
            `prefix "${prefix}" is not accepted here`,
          );
        } else {
          record = await store.findByKeyId(keyId);
        }
      } catch (err) {
        if (!(err instanceof ApiKeyRejected)) throw err;
        formatError = err;
      }
      // The same secret-dependent work on every path: one HMAC, one constant-time comparison.
      // A record whose pepper was dropped from the configuration is compared like a missing
      // one (current pepper, stand-in), and refused only afterwards.
      const comparable = record !== undefined && peppers.has(record.pepperId) ? record : undefined;
      const mac = macOf(bounded, comparable?.pepperId ?? peppers.currentId);
      const expected =
        comparable === undefined ? standIn : Buffer.from(comparable.hmac, 'base64url');
      const matches = constantTimeEqual(mac, expected);
      if (formatError !== undefined) throw formatError;
      if (record !== undefined && comparable === undefined) {
        throw new CustosError(
          'ERR_PEPPER_UNKNOWN',
          `pepper "${record.pepperId}" is not configured`,
        );
      }
      if (record === undefined || !matches) {
        throw new ApiKeyRejected('ERR_API_KEY_UNKNOWN', 'no stored API key matches');
      }
      const now = new Date();
      if (record.revokedAt !== null && record.revokedAt <= now) {
        throw new ApiKeyRejected('ERR_API_KEY_REVOKED', `API key ${record.keyId} has been revoked`);
      }
      if (record.expiresAt !== null && record.expiresAt <= now) {
        throw new ApiKeyRejected(
          'ERR_API_KEY_EXPIRED',
          `API key ${record.keyId} expired at ${record.expiresAt.toISOString()}`,
        );
      }
      const missing = (verifyOptions.requiredScopes ?? []).filter(
        (s) => !record.scopes.includes(s),
      );
      if (missing.length > 0) {
        throw new ApiKeyRejected(
          'ERR_API_KEY_SCOPE',
          `API key ${record.keyId} lacks scope ${missing.join(', ')}`,
        );
      }
      if (
        record.lastUsedAt === null ||
        now.getTime() - record.lastUsedAt.getTime() >= resolutionMs
      ) {
        await store.touch(record.keyId, now);
        return { ...record, lastUsedAt: now };
      }
      return record;
    },

    revokeApiKey(keyId) {
      return store.revoke(keyId, new Date());
    },
  };
}

function checkPrefixes(prefixes: readonly string[]): readonly string[] {
  if (!Array.isArray(prefixes) || prefixes.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'prefixes must list at least one prefix');
  }
  for (const prefix of prefixes) checkPrefix(prefix);
  return prefixes;
}
