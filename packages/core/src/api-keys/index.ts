/**
 * API keys: `<prefix>_<key id>_<random><checksum>` (CRC32, base62: scanner-detectable), stored
 * as a peppered HMAC with scopes, expiry, revocation and last use, found by key id in O(1) and
 * compared in constant time. Stores for memory and SQL (your Kysely instance). See
 * `docs/passwords-and-api-keys.md`.
 *
 * @example
 * ```ts
 * import { createApiKeyService, createSqlApiKeyStore } from '@custos/core/api-keys';
 * const apiKeys = createApiKeyService({ store: createSqlApiKeyStore({ db }), prefixes: ['acme'], peppers });
 * const { key, record } = await apiKeys.createApiKey({ scopes: ['read'] });
 * ```
 * @module
 */
export type { PepperSet, PepperValue } from '../lib/pepper.js';
export { ApiKeyRejected, type ApiKeyRejectionCode } from './errors.js';
export {
  API_KEY_PATTERN,
  API_KEY_PREFIX_PATTERN,
  apiKeyChecksum,
  generateApiKey,
  hasValidApiKeyChecksum,
  type ParsedApiKey,
  parseApiKey,
} from './format.js';
export {
  type ApiKeyService,
  type ApiKeyServiceOptions,
  type CreateApiKeyOptions,
  type CreatedApiKey,
  createApiKeyService,
} from './service.js';
export { type ApiKeyRecord, type ApiKeyStore, createMemoryApiKeyStore } from './store.js';
export {
  createSqlApiKeyStore,
  type SqlApiKeyStore,
  type SqlApiKeyStoreOptions,
} from './store-sql.js';
