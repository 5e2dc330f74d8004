/**
 * Stored known-answer vectors (`vectors/*.json` in this package): their shapes, and how their JSON
 * stands for bytes, associated data and typed field values. Written once by `vectors/generate.ts`,
 * read by the tests that decrypt every vector. See `vectors/README.md`.
 */
import { readFileSync } from 'node:fs';

/** Bytes in a vector file: text as UTF-8 when it is text, hex otherwise. */
export type StoredBytes = { readonly utf8: string } | { readonly hex: string };

/** Associated data as the keyring takes it: text, raw bytes or a record. */
export type StoredAad =
  | StoredBytes
  | { readonly record: Readonly<Record<string, string | number>> };

/** A field value with its type (JSON has no Date, bigint, bytes, NaN or -0). */
export type StoredFieldValue =
  | { readonly string: string }
  | { readonly number: number | 'NaN' | 'Infinity' | '-Infinity' | '-0' }
  | { readonly boolean: boolean }
  | { readonly date: string }
  | { readonly bytes: string }
  | { readonly json: unknown }
  | { readonly bigint: string };

/** `vectors/envelope-v1.json`: the custos envelope (`crypto/FORMAT.md`). */
export interface EnvelopeVectorFile {
  readonly description: string;
  /** A serialised keyring (`serializeKeyring`), key material included. */
  readonly keyring: unknown;
  readonly vectors: readonly EnvelopeVector[];
}

export interface EnvelopeVector {
  readonly name: string;
  /** The key name in the keyring, and what the envelope header must say about it. */
  readonly key: string;
  readonly algorithm: 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-256-gcm-siv';
  readonly keyId: string;
  readonly keyVersion: number;
  readonly aad?: StoredAad;
  readonly keyContext?: StoredBytes;
  readonly plaintext: StoredBytes;
  /** `custos:…` text, or the binary form in hex. */
  readonly envelope: { readonly text: string } | { readonly hex: string };
  /** Set on the vector quoted in a document, which the test finds there verbatim. */
  readonly quotedIn?: string;
}

/** Field context as stored (ids are JSON numbers or strings). */
export interface StoredFieldContext {
  readonly table: string;
  readonly column: string;
  readonly rowId?: string | number;
  readonly tenantId?: string | number;
  readonly deterministic?: boolean;
  readonly padding?: { readonly blockBytes: number };
}

/** `vectors/fields-v1.json`: field ciphertexts and blind indexes (`fields/FORMAT.md`). */
export interface FieldVectorFile {
  readonly description: string;
  readonly keyring: unknown;
  /** A custos KMS file (`custos.kms.v1`) holding the key that wraps the KMS-mode data keys. */
  readonly kmsFile: unknown;
  /** Name of that key in the KMS file. */
  readonly kmsKey: string;
  /** Name of the keyring key that wraps data keys in `createKeyringKms` mode. */
  readonly keyringKmsKey: string;
  readonly fields: readonly FieldVector[];
  readonly blindIndexes: readonly BlindIndexVector[];
}

export interface FieldVector {
  readonly name: string;
  /** `keyring`: `createFieldCipher({ keyring })`; `local-kms` / `keyring-kms`: envelope mode. */
  readonly mode: 'keyring' | 'local-kms' | 'keyring-kms';
  readonly value: StoredFieldValue;
  readonly context: StoredFieldContext;
  readonly ciphertext: string;
  /** What `describe` must say (keyring mode). */
  readonly keyName?: string;
  readonly keyVersion?: number;
  readonly quotedIn?: string;
}

export interface BlindIndexVector {
  readonly name: string;
  readonly value: StoredFieldValue;
  readonly options: {
    readonly table: string;
    readonly column: string;
    readonly tenantId?: string | number;
    readonly bits?: number;
    readonly normalize?: boolean;
    readonly slow?: {
      readonly memoryKiB: number;
      readonly iterations: number;
      readonly parallelism: number;
    };
    readonly version?: number;
  };
  readonly index: string;
  readonly quotedIn?: string;
}

/** `vectors/blind-index-v2.json`: blind indexes under a blind-index key (`b<version>.`). */
export interface BlindIndexVectorFile {
  readonly description: string;
  /** `default` (rotated once, changing no index) and `blind-index` (two versions). */
  readonly keyring: unknown;
  readonly blindIndexes: readonly BlindIndexVector[];
}

/**
 * `vectors/transit-v1.json`: `vault:v<N>:` values of LocalKms and the server's transit; and
 * `vectors/transit-key-types-v1.json` in the same shape, for the key types added after it
 * (aes128-gcm96, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-4096).
 */
export interface TransitVectorFile {
  readonly description: string;
  /** A custos KMS file (`custos.kms.v1`): one transit backup per key. */
  readonly kmsFile: { readonly format: string; readonly keys: readonly string[] };
  readonly ciphertexts: readonly TransitCiphertextVector[];
  readonly hmacs: readonly TransitHmacVector[];
  readonly signatures: readonly TransitSignatureVector[];
}

export interface TransitCiphertextVector {
  readonly name: string;
  readonly key: string;
  /** Base64, as the HTTP API takes them. */
  readonly plaintext: string;
  readonly context?: string;
  readonly associatedData?: string;
  readonly ciphertext: string;
  /** Convergent keys: encrypting the same input again gives this ciphertext. */
  readonly deterministic: boolean;
}

export interface TransitHmacVector {
  readonly name: string;
  readonly key: string;
  readonly input: string;
  readonly algorithm: string;
  readonly keyVersion: number;
  readonly hmac: string;
}

export interface TransitSignatureVector {
  readonly name: string;
  readonly key: string;
  readonly input: string;
  readonly hashAlgorithm?: string;
  readonly marshalingAlgorithm: 'asn1' | 'jws';
  /** RSA only (`transit-key-types-v1.json`): `pss` or `pkcs1v15`. */
  readonly signatureAlgorithm?: 'pss' | 'pkcs1v15';
  /** RSA PSS only: the `salt_length` signed with (`auto`, `hash` or bytes). */
  readonly saltLength?: 'auto' | 'hash' | number;
  readonly keyVersion: number;
  readonly signature: string;
  /** Ed25519 and RSA PKCS#1 v1.5 signatures are deterministic: signing again gives this one. */
  readonly deterministic: boolean;
}

/** `vectors/barrier-v1.json`: the server's seal and barrier storage. */
export interface BarrierVectorFile {
  readonly description: string;
  /** Unseal key shares (base64) and how many reproduce the root key. */
  readonly unsealKeys: readonly string[];
  readonly threshold: number;
  /** The stored `core/keyring` entry: the barrier keyring encrypted under the root key (hex). */
  readonly encryptedKeyring: string;
  readonly entries: readonly {
    readonly path: string;
    /** The stored value (hex), as it sits in `custos_entries.value`. */
    readonly value: string;
    readonly data: unknown;
  }[];
}

const VECTORS_DIR = new URL('../vectors/', import.meta.url);

/** The path of a vector file, for tools that take paths. */
export function vectorFilePath(name: string): string {
  return new URL(name, VECTORS_DIR).pathname;
}

/**
 * Reads one stored vector file.
 *
 * @example
 * ```ts
 * const file = readVectorFile<EnvelopeVectorFile>('envelope-v1.json');
 * ```
 */
export function readVectorFile<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), 'utf8')) as T;
}

/** A file of the repository by its path from the root (for the documents that quote vectors). */
export function readRepoFile(path: string): string {
  return readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
}

/** The bytes a {@link StoredBytes} stands for. */
export function storedBytes(value: StoredBytes): Buffer {
  return 'utf8' in value ? Buffer.from(value.utf8, 'utf8') : Buffer.from(value.hex, 'hex');
}

/** Associated data in the form the keyring takes (a record stays a record). */
export function storedAad(value: StoredAad): Buffer | Readonly<Record<string, string | number>> {
  return 'record' in value ? value.record : storedBytes(value);
}

/** The typed value a {@link StoredFieldValue} stands for. */
export function storedFieldValue(value: StoredFieldValue): unknown {
  if ('string' in value) return value.string;
  if ('boolean' in value) return value.boolean;
  if ('date' in value) return new Date(value.date);
  if ('bytes' in value) return Buffer.from(value.bytes, 'hex');
  if ('json' in value) return value.json;
  if ('bigint' in value) return BigInt(value.bigint);
  const n = value.number;
  if (n === 'NaN') return Number.NaN;
  if (n === 'Infinity') return Number.POSITIVE_INFINITY;
  if (n === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (n === '-0') return -0;
  return n;
}
