import { CustosError } from '../errors/index.js';

/** What is stored for an API key: never the key itself, only its peppered HMAC. */
export interface ApiKeyRecord {
  /** Public, random, unique: the lookup key. */
  readonly keyId: string;
  readonly prefix: string;
  /** HMAC-SHA256(pepper, whole key), base64url. */
  readonly hmac: string;
  /** Which pepper made `hmac`, so peppers can rotate. */
  readonly pepperId: string;
  readonly scopes: readonly string[];
  readonly name: string | null;
  readonly ownerId: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

/**
 * Where API-key records live. Lookups are by primary key (`keyId`), so verification costs
 * the same with ten keys or ten million.
 */
export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  findByKeyId(keyId: string): Promise<ApiKeyRecord | undefined>;
  /** Sets `revokedAt` unless already revoked; returns whether a key was revoked now. */
  revoke(keyId: string, revokedAt: Date): Promise<boolean>;
  touch(keyId: string, lastUsedAt: Date): Promise<void>;
  /** The records of one owner, newest first (for a "your API keys" page). */
  listByOwner(ownerId: string): Promise<ApiKeyRecord[]>;
}

/**
 * An in-process API-key store (tests, single-process tools). Records live in a `Map` keyed by
 * key id.
 *
 * @example
 * ```ts
 * const apiKeys = createApiKeyService({ store: createMemoryApiKeyStore(), prefixes: ['acme'], peppers });
 * ```
 */
export function createMemoryApiKeyStore(): ApiKeyStore & { readonly size: number } {
  const records = new Map<string, ApiKeyRecord>();
  return {
    get size() {
      return records.size;
    },
    async insert(record) {
      if (records.has(record.keyId)) {
        throw new CustosError('ERR_KEY_EXISTS', `API key id ${record.keyId} already exists`);
      }
      records.set(record.keyId, record);
    },
    async findByKeyId(keyId) {
      return records.get(keyId);
    },
    async revoke(keyId, revokedAt) {
      const record = records.get(keyId);
      if (record === undefined || record.revokedAt !== null) return false;
      records.set(keyId, { ...record, revokedAt });
      return true;
    },
    async touch(keyId, lastUsedAt) {
      const record = records.get(keyId);
      if (record !== undefined) records.set(keyId, { ...record, lastUsedAt });
    },
    async listByOwner(ownerId) {
      return [...records.values()]
        .filter((r) => r.ownerId === ownerId)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    },
  };
}
