/**
 * The library's error codes, each with the one-line meaning documented in `docs/errors.md`.
 * Codes only `@custos/server` throws are in the server's own table (`packages/server/src/errors.ts`).
 *
 * @example
 * ```ts
 * errorCodes.ERR_DECRYPTION_FAILED; // "A ciphertext failed authentication, …"
 * ```
 */
export const errorCodes = {
  // --- general and crypto core ---
  ERR_INVALID_ARGUMENT: 'An argument has the wrong type, length or form.',
  ERR_DECRYPTION_FAILED:
    'A ciphertext failed authentication, or names a key or version this keyring does not hold.',
  ERR_MALFORMED_CIPHERTEXT: 'A ciphertext envelope cannot be parsed.',
  ERR_KEY_NOT_FOUND: 'No key with that name exists.',
  ERR_KEY_EXISTS: 'A key with that name already exists.',
  ERR_KEY_DISABLED:
    'The key version exists but its state (disabled, destroyed, decrypt-only, below the minimum decryption version) forbids the operation.',
  ERR_KEY_EXHAUSTED:
    'The key version reached its encryption limit and must be rotated before encrypting again.',
  ERR_INVALID_KEY_STATE: 'The requested key state change is not allowed from the current state.',
  ERR_MALFORMED_KEYRING: 'A serialised keyring is not valid (bad JSON, truncated, wrong fields).',
  ERR_INSECURE_FILE:
    "A file holding key material may be read by other users (others may read it, its group may write it, or its group may read it where this process could rewrite it), belongs to a user other than the process's or root, or a dotenv key file is a symbolic link, or a SQLite storage file (or its `-wal`/`-shm`) is a symbolic link, owned by another user, readable or writable by others, or in a directory others may write to.",
  // --- secrets SDK and configuration validation ---
  ERR_SECRET_MISSING: 'A required secret is not set in any configured provider.',
  ERR_SECRETS_INVALID:
    'The configuration fails its secrets schema; the error lists every problem by variable name, never by value.',
  ERR_WEAK_SECRET:
    'A secret value fails its strength rules (too short, low entropy, wrong encoding, or a known weak, placeholder or development value).',
  ERR_SECRET_PROVIDER: 'A secrets provider failed to read and no earlier value could be served.',
  ERR_INSECURE_PROVIDER:
    'Production refuses this provider (the plain process environment) unless it is explicitly allowed.',
  ERR_ENV_KEY_MISSING:
    'An encrypted dotenv value needs a key that none of the given keys (CUSTOS_ENV_KEY…, key file) provides.',
  ERR_ENV_VALUE_OUTDATED:
    'An encrypted dotenv value is in the first enc: format (not bound to its file mode), which is no longer read.',
  ERR_INVALID_SCHEMA: 'A secrets schema (module, JSON file or definition) is invalid.',
  ERR_ENV_VALUE_PLAINTEXT:
    'A plaintext value under a secret-looking name sits in a dotenv file that holds enc: values, or in any other dotenv file loaded with one (a `.local` override included), and is not marked as deliberately plain.',
  // --- the server client (CLI, KV provider, transit client) ---
  ERR_SERVER_UNREACHABLE:
    'The server could not be reached (connection refused, unknown host, TLS failure) or did not answer within the timeout.',
  ERR_SERVER_REDIRECT:
    'The server answered with a redirect; custos never follows one, so the token and the request go nowhere else.',
  ERR_INSECURE_TRANSPORT:
    'Plain http to a host other than loopback was refused: it was not explicitly allowed.',
  // --- a server's answers: thrown by the server, reported by the client ---
  ERR_SEALED: 'The server is sealed: it holds no keys until unsealed with enough key shares.',
  ERR_PERMISSION_DENIED:
    'The token is missing, unknown, expired or revoked (a batch token altered, or whose parent was revoked, included), used from outside its bound CIDR blocks, or its policies do not allow the operation (orphan and periodic tokens need sudo on the create path).',
  ERR_NOT_FOUND: 'Nothing exists at that path.',
  ERR_INVALID_REQUEST: 'The request is malformed or has an invalid parameter.',
  // --- transit and key lifecycle ---
  ERR_KMS_REMOTE: 'The remote transit engine refused the operation or could not be reached.',
  ERR_KMS_PROVIDER_MISSING:
    "A KMS provider's client package or native library (a PKCS#11 module) is not installed or cannot be loaded.",
  ERR_KMS_LOGIN_FAILED:
    'The KMS or HSM refused the credentials given (a wrong PIN, a locked token, a refused login).',
  ERR_KMS_PROVIDER:
    'The KMS provider (an HSM, a cloud KMS) refused the operation or failed while doing it.',
  ERR_KMS_CONFIG: 'KMS_PROVIDER, or a setting the selected provider needs, is missing or invalid.',
  // --- field-level encryption ---
  ERR_FIELD_NOT_ENCRYPTED:
    'A value that should be a custos field ciphertext is plaintext or in another format.',
  ERR_FIELD_CONTEXT_MISSING:
    'The row id, tenant or column needed to bind a field ciphertext is not available where it is encrypted or decrypted.',
  ERR_REENCRYPT_INCOMPLETE:
    'The re-encryption verification pass found values that fail to decrypt or are not under the primary key version.',
  // --- tokens, passwords, API keys ---
  ERR_TOKEN_INVALID:
    'The token is malformed, its signature does not verify, or a pinned claim or header (algorithm, issuer, audience, type) does not match.',
  ERR_TOKEN_EXPIRED: 'The token has expired, beyond the clock tolerance.',
  ERR_TOKEN_WRONG_TYPE:
    'The token is of the other type (a refresh token presented as an access token, or the reverse).',
  ERR_TOKEN_KEY_NOT_FOUND:
    "No single key in the keyset matches the token's kid: it is missing, unknown (for example a removed key) or matches several keys.",
  ERR_TOKEN_KEY_RETIRED: 'The token was signed by a previous key whose grace window has ended.',
  ERR_TOKEN_REVOKED: 'The token, or the refresh family it belongs to, has been revoked.',
  ERR_TOKEN_REUSED:
    'A refresh token was presented a second time, so its whole family has been revoked.',
  ERR_JWKS_UNAVAILABLE: 'The remote JWKS could not be fetched or parsed in time.',
  ERR_MALFORMED_KEYSET:
    'A serialised JWT keyset is not valid (bad JSON, unknown algorithm, bad key, duplicate kid, no single current key, a previous key without verifyUntil).',
  ERR_PASSWORD_HASH_UNSUPPORTED:
    'A stored password hash is not in a format custos verifies, or its parameters are out of range.',
  ERR_PEPPER_UNKNOWN: 'A stored hash or API key names a pepper id that is not configured.',
  ERR_PEPPER_REQUIRED:
    'A stored password hash carries no pepper, and the hasher requires one (requirePepper).',
  ERR_API_KEY_MALFORMED:
    'The API key does not have the custos form (prefix, key id, then random part and checksum, joined by underscores).',
  ERR_API_KEY_CHECKSUM:
    "The API key's checksum does not match: it was mistyped or truncated, or is not a real key.",
  ERR_API_KEY_PREFIX: "The API key's prefix is not one this service accepts.",
  ERR_API_KEY_UNKNOWN:
    'No stored API key matches: the key id is unknown or the secret part is wrong.',
  ERR_API_KEY_EXPIRED: 'The API key has passed its expiry time.',
  ERR_API_KEY_REVOKED: 'The API key has been revoked.',
  ERR_API_KEY_SCOPE: 'The API key is valid but lacks a scope the operation requires.',
  // --- backups (streaming encryption) ---
  ERR_BACKUP_KEY_MISMATCH:
    'None of the given keys opens the backup: a wrong key, identity or passphrase, or a file encrypted to other recipients.',
  ERR_BACKUP_TRUNCATED:
    'The backup stream ends before its last chunk: it was cut off (a cut that leaves part of a chunk may fail as ERR_DECRYPTION_FAILED instead).',
  ERR_BACKUP_DRILL_FAILED:
    'A restore drill found a problem: the plaintext digest differs from the one expected, or the restore into the scratch database failed.',
  ERR_KEY_FILE_LOCKED:
    'A key file is protected (wrapped like a backup) and none of the unlock keys given opens it, or none was given.',
  ERR_SHARE_MALFORMED:
    'A text is not a custos share, or fails its checksum (mistyped, cut off or altered).',
  ERR_SHARE_DUPLICATE: 'The same share was given twice; each share counts once.',
  ERR_SHARES_MIXED:
    'The shares come from different splits, or claim the same set but disagree (one was altered).',
  ERR_SHARES_TOO_FEW: 'Fewer distinct shares were given than the threshold of their split.',
  ERR_SHARES_WRONG:
    'Well-formed shares of one split do not rebuild the secret its commitment names: a share was forged or altered.',
  // --- webhooks ---
  ERR_WEBHOOK_MALFORMED:
    'The webhook signature header is missing or not of the custos form (t= and id= once each, one to sixteen v1= signatures, within the size limits).',
  ERR_WEBHOOK_SIGNATURE:
    'No signature in the webhook header matches the body and timestamp under any accepted secret.',
  ERR_WEBHOOK_SECRET_RETIRED:
    'The webhook verifies only under a previous secret whose grace window has ended (verifying), or a signer has no secret left within its window (signing).',
  ERR_WEBHOOK_TIMESTAMP:
    'The webhook is authentic but its timestamp is outside the tolerance (too old, or too far in the future).',
  ERR_WEBHOOK_REPLAYED:
    'The exact signed webhook (same id and timestamp) was already accepted within the tolerance window.',
  // --- secret scanning ---
  ERR_SCAN_GIT:
    'A git command the scanner runs failed: not inside a repository, an unknown revision or branch, or git is not installed.',
  ERR_SCAN_CONFIG:
    'A scanner configuration or baseline file is not valid (bad JSON, wrong fields).',
  ERR_SCAN_CACHE:
    'The scan cache, or the key that authenticates it, could not be written: its directory cannot be created (a missing or read-only parent, a path such as /proc), or the file cannot be written.',
  // --- transport security ---
  ERR_TLS_CONFIG:
    'A TLS setting is refused: a minimum version below TLS 1.2, a cipher list OpenSSL rejects or one naming a broken cipher, a certificate, key or CA file that cannot be read or parsed, or a key that does not match its certificate.',
  ERR_INSECURE_CONNECTION:
    "A database or Redis connection would run without TLS, or without verifying the server's certificate, in production, and that was not explicitly allowed.",
} as const;

/**
 * A stable error code of the library, usable in `switch (err.code)`.
 *
 * @example
 * ```ts
 * const retryable: ErrorCode[] = ['ERR_SERVER_UNREACHABLE', 'ERR_SEALED'];
 * ```
 */
export type ErrorCode = keyof typeof errorCodes;
