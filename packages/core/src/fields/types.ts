/**
 * A value a field cipher encrypts. It comes back from decryption with its type: a string, a
 * number (including NaN, ±Infinity and -0), a bigint, a boolean, a `Date`, bytes (a
 * `Uint8Array` comes back as a `Buffer`, which is a `Uint8Array`), or a JSON value (`null`, a
 * plain object or an array, round-tripped through `JSON.stringify`, so a `Date` nested inside
 * comes back as its ISO string).
 */
export type FieldValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | Uint8Array
  | null
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/** Length padding: the encoded value is padded to a multiple of `blockBytes` before encryption. */
export interface PaddingOptions {
  /** 2 to 4096. Every ciphertext of the column then has one of a few lengths. */
  readonly blockBytes: number;
}

/** An identifier bound into a ciphertext (a row id or tenant id). */
export type FieldIdentifier = string | number | bigint;

/**
 * Where a value lives. Everything but `padding` is bound to the ciphertext as associated data
 * (never stored in it) and must be passed again, identically, to decrypt: a ciphertext moved to
 * another table, column, row or tenant fails with `ERR_DECRYPTION_FAILED`.
 */
export interface FieldContext {
  readonly table: string;
  readonly column: string;
  /**
   * The row's id, when it is known before the write (application-generated ids). Deterministic
   * columns ignore it: equal values must give equal ciphertexts across rows.
   */
  readonly rowId?: FieldIdentifier;
  /** The tenant: selects the tenant's own key and is bound as associated data. */
  readonly tenantId?: FieldIdentifier;
  /** Deterministic (searchable) encryption for this column: equal values, equal ciphertexts. */
  readonly deterministic?: boolean;
  /** Pads values of this column (encryption only; decryption removes it whatever it was). */
  readonly padding?: PaddingOptions;
}

/** Argon2id parameters for slow blind indexes of low-entropy values. */
export interface SlowBlindIndexOptions {
  /** KiB of memory; default 19456 (19 MiB, OWASP 2023). */
  readonly memoryKiB?: number;
  /** Passes; default 2. */
  readonly iterations?: number;
  /** Lanes; default 1. */
  readonly parallelism?: number;
}

/** Which column a blind index belongs to and how it is computed. */
export interface BlindIndexOptions {
  readonly table: string;
  readonly column: string;
  /** Tenant: the same value in two tenants gets unrelated indexes. */
  readonly tenantId?: FieldIdentifier;
  /**
   * Bits of the HMAC kept, 1 to 256; default 64. Fewer bits mean more false positives (confirm
   * matches by decrypting) and less leakage.
   */
  readonly bits?: number;
  /**
   * Normalise strings before indexing: `true` applies Unicode NFKC, trims and lower-cases (for
   * emails and names); a function applies your own. Must be the same at write and lookup.
   */
  readonly normalize?: boolean | ((value: string) => string);
  /** Argon2id instead of HMAC alone, for low-entropy values (birth dates, 4-digit codes). */
  readonly slow?: boolean | SlowBlindIndexOptions;
  /**
   * Version of the blind-index key to compute under; default the primary. Lookups during a
   * blind-index rotation use `blindIndexCandidates` instead.
   */
  readonly version?: number;
}

/** What a stored ciphertext says about itself, read without decrypting. */
export interface CiphertextInfo {
  /** Id of the key (16 hex characters) that encrypted it; in KMS mode, the KMS key. */
  readonly keyId: string;
  /** Name of that key in the keyring, when the keyring holds it. */
  readonly keyName: string | undefined;
  readonly keyVersion: number;
  readonly deterministic: boolean;
  /** Whether it is under the key version that encrypts now (re-encryption skips it). */
  readonly current: boolean;
}

/** The key versions that encrypt now, per mode. */
export interface CurrentKeys {
  readonly randomized: { readonly keyId: string; readonly keyVersion: number };
  /** Absent when no deterministic key is configured. */
  readonly deterministic?: { readonly keyId: string; readonly keyVersion: number };
  /** The blind-index key's primary (indexes are written under it); absent without one. */
  readonly blindIndex?: { readonly keyId: string; readonly keyVersion: number };
}

/**
 * A field cipher over a local keyring: every method is synchronous (and fast), so it can be used
 * where nothing may be awaited (Drizzle column mappings, Kysely query transforms).
 */
export interface FieldCipher {
  readonly mode: 'keyring';
  /** Encrypts `value` bound to `context`; returns a text envelope (`custos:…`). */
  encrypt(value: FieldValue, context: FieldContext): string;
  /** Decrypts with the same context used to encrypt; returns the value with its type. */
  decrypt<T extends FieldValue = FieldValue>(ciphertext: string, context: FieldContext): T;
  /** A short deterministic string for equality lookups (`b<version>.<base64url>`). */
  blindIndex(value: FieldValue, options: BlindIndexOptions): string;
  /**
   * The blind index under every readable blind-index key version, primary first, then under
   * the legacy key's versions (`legacyBlindIndexKeyName`): `where idx in (…)` during a backfill.
   */
  blindIndexCandidates(value: FieldValue, options: BlindIndexOptions): string[];
  /** A deterministic column's ciphertext under every version that still decrypts, primary first. */
  deterministicCandidates(value: FieldValue, context: FieldContext): string[];
  /** Decrypts and encrypts again under the primary, keeping the mode and padding. */
  reencrypt(ciphertext: string, context: FieldContext): string;
  /** Key id, version and mode of a ciphertext, and whether it is current. */
  describe(ciphertext: string): CiphertextInfo;
  /** The key versions that encrypt now. */
  currentKeys(): CurrentKeys;
}

/** A field cipher over a KMS: the same methods as {@link FieldCipher}, returning promises. */
export interface AsyncFieldCipher {
  readonly mode: 'kms';
  encrypt(value: FieldValue, context: FieldContext): Promise<string>;
  decrypt<T extends FieldValue = FieldValue>(ciphertext: string, context: FieldContext): Promise<T>;
  blindIndex(value: FieldValue, options: BlindIndexOptions): Promise<string>;
  blindIndexCandidates(value: FieldValue, options: BlindIndexOptions): Promise<string[]>;
  deterministicCandidates(value: FieldValue, context: FieldContext): Promise<string[]>;
  reencrypt(ciphertext: string, context: FieldContext): Promise<string>;
  describe(ciphertext: string): Promise<CiphertextInfo>;
  currentKeys(): Promise<CurrentKeys>;
}

/** Either kind of field cipher; `await` its results to handle both. */
export type AnyFieldCipher = FieldCipher | AsyncFieldCipher;
