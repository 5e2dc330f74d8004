import { lstat } from 'node:fs/promises';
import { CustosError } from '../errors/index.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { type BytesLike, toBuffer } from '../lib/bytes.js';
import type { KeyFileUnlockOptions } from '../stream/protected-file.js';
import { readKeyFile } from '../stream/protected-read.js';
import { parseVersioned } from './ciphertext.js';
import { assertBackupAllowed, assertReplaceable } from './key-custody.js';
import type { KeyState } from './key-lifecycle.js';
import { assertNotRevoked, materialFingerprints } from './revoked-material.js';
import { decodeBackup, encodeBackup } from './transit-backup.js';
import {
  checkEncryption,
  decryptWithKey,
  encryptWithKey,
  hmacWithKey,
  randomDataKey,
  type SignatureOptions,
  signWithKey,
  type TransitKeyView,
  verifyHmacWithKey,
  verifyWithKey,
} from './transit-crypto.js';
import {
  assertRotatable,
  type CreateTransitKeyOptions,
  changeState,
  configureKey,
  createKeyPolicy,
  createKeyVersion,
  describeKey,
  planTrim,
  rotationDue,
  type TransitKeyConfigChange,
  type TransitKeyPolicy,
  type TransitKeyVersion,
  validateKeyName,
  versionExhausted,
  wasRevoked,
} from './transit-key.js';

/**
 * One use of a key, as the usage log records it (never data).
 *
 * @example
 * ```ts
 * const kms = new LocalKms({ onUsage: (use: KeyUsage) => logger.info(use, 'kms') });
 * ```
 */
export interface KeyUsage {
  readonly key: string;
  readonly operation: string;
  readonly version?: number;
  readonly success: boolean;
  readonly time: string;
}

/**
 * Options for {@link LocalKms}: a clock and a usage log.
 *
 * @example
 * ```ts
 * const options: LocalKmsOptions = { now: () => clock.now(), onUsage: (use) => usage.push(use) };
 * const kms = await LocalKms.open('kms.json', options);
 * ```
 */
export interface LocalKmsOptions {
  readonly now?: () => Date;
  /** Called for every operation on a key (the usage log). */
  readonly onUsage?: (usage: KeyUsage) => void;
  /**
   * Opens a protected KMS file (`custos kms protect`… see docs/backups.md); without it, the keys
   * the environment names (`CUSTOS_KEY_PASSPHRASE_FILE`, `CUSTOS_KEY_IDENTITY`, …).
   */
  readonly unlock?: KeyFileUnlockOptions;
}

/**
 * Options of encrypt, decrypt and rewrap.
 *
 * @example
 * ```ts
 * const options: KmsCryptOptions = { context: 'tenant-7', associatedData: 'orders.card' };
 * kms.decrypt('orders', ciphertext, options);
 * ```
 */
export interface KmsCryptOptions {
  /** Derivation context (derived keys only). */
  readonly context?: BytesLike;
  /** Bound to the ciphertext and required to decrypt. */
  readonly associatedData?: BytesLike;
  /** Encrypt (or rewrap) to this version instead of the latest. */
  readonly keyVersion?: number;
}

interface StoredKey {
  policy: TransitKeyPolicy;
  versions: Map<number, TransitKeyVersion>;
}

const FILE_FORMAT = 'custos.kms.v1';
const opt = (value: BytesLike | undefined) => (value === undefined ? undefined : toBuffer(value));

/**
 * The transit engine in-process: named keys with versions, rotation, lifecycle states and
 * Vault-format ciphertexts (`vault:v1:…`), byte for byte what the custos server's `transit/`
 * produces. Start an application on a local KMS file; later `backup` each key into the server
 * (`transit/restore`) and its ciphertexts keep decrypting there.
 *
 * A KMS file has one writer: two processes rotating the same file would diverge.
 *
 * @example
 * ```ts
 * const kms = await LocalKms.open('kms.json');
 * kms.createKey('patients');
 * const { ciphertext } = kms.encrypt('patients', 'Jane Doe');
 * kms.decrypt('patients', ciphertext).toString(); // 'Jane Doe'
 * await kms.save();
 * ```
 */
export class LocalKms {
  readonly #keys = new Map<string, StoredKey>();
  /** Fingerprints of revoked material → the key it was revoked with (kept in the file). */
  readonly #revoked = new Map<string, string>();
  readonly #now: () => Date;
  readonly #onUsage: ((usage: KeyUsage) => void) | undefined;
  #file: string | undefined;
  /** Seals the file's new text for the keys it was protected for (a protected file). */
  #reseal: ((text: string) => Promise<string>) | undefined;

  constructor(options: LocalKmsOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#onUsage = options.onUsage;
  }

  /**
   * Opens (or starts) a KMS file. The file holds key material: it is written with mode 0600, and
   * an existing one that other users may read is refused (`ERR_INSECURE_FILE`). A protected
   * file is opened with `options.unlock` (or the keys the environment names) and saved protected
   * for the same keys.
   */
  static async open(file: string, options: LocalKmsOptions = {}): Promise<LocalKms> {
    const kms = new LocalKms(options);
    kms.#file = file;
    const exists = await lstat(file).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    const opened = exists
      ? await readKeyFile(file, 'KMS file', { unlock: options.unlock })
      : undefined;
    if (opened?.protected) kms.#reseal = opened.reseal;
    if (opened !== undefined) kms.#load(opened.text, file);
    return kms;
  }

  /**
   * Reads a KMS file's text that is already in memory (opened from a protected file, say) and
   * checks it whole: the result holds its keys and has no file to save to until
   * {@link LocalKms.save} is given one.
   *
   * @example
   * ```ts
   * const kms = LocalKms.fromText(await readFile('kms.json', 'utf8'));
   * kms.listKeys();
   * ```
   */
  static fromText(text: string, options: LocalKmsOptions = {}): LocalKms {
    const kms = new LocalKms(options);
    kms.#load(text, 'the KMS text');
    return kms;
  }

  #load(text: string, file: string): void {
    let parsed: { format?: string; keys?: string[]; revoked_material?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new CustosError(
        'ERR_MALFORMED_KEYRING',
        `${file} is not valid JSON (is it truncated?)`,
      );
    }
    const revoked = parsed.revoked_material ?? {};
    if (
      parsed.format !== FILE_FORMAT ||
      !Array.isArray(parsed.keys) ||
      typeof revoked !== 'object' ||
      revoked === null ||
      !Object.values(revoked).every((v) => typeof v === 'string')
    ) {
      throw new CustosError('ERR_MALFORMED_KEYRING', `${file} is not a custos KMS file`);
    }
    for (const [print, key] of Object.entries(revoked as Record<string, string>))
      this.#revoked.set(print, key);
    for (const blob of parsed.keys) {
      const { policy, versions } = decodeBackup(blob);
      if (this.#keys.has(policy.name))
        throw new CustosError('ERR_MALFORMED_KEYRING', `${file} holds key ${policy.name} twice`);
      this.#keys.set(policy.name, {
        policy,
        versions: new Map(versions.map((v) => [v.version, { ...v }])),
      });
      if (wasRevoked(policy)) this.#recordRevoked(policy.name);
    }
  }

  /** Writes the KMS file (atomically, mode 0600). */
  async save(file = this.#file): Promise<void> {
    if (file === undefined) throw new CustosError('ERR_INVALID_ARGUMENT', 'no file to save to');
    const keys = [...this.#keys.keys()].map((name) => this.#backupOf(name));
    const revoked_material = Object.fromEntries(this.#revoked);
    const text = `${JSON.stringify({ format: FILE_FORMAT, keys, revoked_material }, null, 2)}\n`;
    await writeFileAtomic(
      file,
      this.#reseal === undefined ? text : await this.#reseal(text),
      0o600,
    );
  }

  listKeys(): string[] {
    return [...this.#keys.keys()].sort();
  }

  /** Creates a key with version 1. Throws `ERR_KEY_EXISTS` if the name is taken. */
  createKey(name: string, options: CreateTransitKeyOptions = {}): Record<string, unknown> {
    if (this.#keys.has(name)) throw new CustosError('ERR_KEY_EXISTS', `key ${name} exists`);
    const now = this.#now();
    const policy = createKeyPolicy(name, options, now);
    this.#keys.set(name, {
      policy,
      versions: new Map([[1, createKeyVersion(policy.type, 1, now)]]),
    });
    return this.readKey(name);
  }

  /** Vault's description of a key (public facts; no key material). */
  readKey(name: string): Record<string, unknown> {
    const key = this.#key(name);
    return describeKey(key.policy, [...key.versions.values()], this.#now().getTime());
  }

  /** Adds a version; refused for a key that was revoked (`ERR_INVALID_KEY_STATE`). */
  rotate(name: string): number {
    const key = this.#key(name);
    assertRotatable(key.policy);
    return this.#rotateKey(key);
  }

  configure(name: string, change: TransitKeyConfigChange): void {
    const key = this.#key(name);
    key.policy = configureKey(key.policy, change, this.#now());
  }

  /**
   * Moves the key through its lifecycle (see `NOTES.md`), checked against the state in force
   * (an expired key is `expired`); illegal moves throw `ERR_INVALID_KEY_STATE`.
   */
  setState(name: string, state: KeyState): void {
    const key = this.#key(name);
    key.policy = changeState(key.policy, state, this.#now());
    if (state === 'revoked') this.#recordRevoked(name);
  }

  /** Deletes versions below `minAvailableVersion` for good (never lowers the floor). */
  trim(name: string, minAvailableVersion: number): void {
    const key = this.#key(name);
    for (const version of planTrim(key.policy, minAvailableVersion)) key.versions.delete(version);
    key.policy = { ...key.policy, min_available_version: minAvailableVersion };
  }

  /** Deletes a key; only when `deletion_allowed` was configured. */
  deleteKey(name: string): void {
    if (!this.#key(name).policy.deletion_allowed) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'deletion is not allowed for this key');
    }
    this.#keys.delete(name);
  }

  /**
   * Encrypts under the latest version (rotated first when due by age or count), or under
   * `keyVersion`; a version that reached `rotate_after_encryptions` is never used again.
   */
  encrypt(
    name: string,
    plaintext: BytesLike,
    options: KmsCryptOptions = {},
  ): { ciphertext: string; keyVersion: number } {
    return this.#use(name, 'encrypt', (key) => {
      const result = this.#encryptOne(key, toBuffer(plaintext), options);
      return { value: result, version: result.keyVersion };
    });
  }

  decrypt(name: string, ciphertext: string, options: KmsCryptOptions = {}): Buffer {
    return this.#use(name, 'decrypt', (key) => {
      const result = decryptWithKey(this.#view(key), { ciphertext, ...this.#inputs(options) });
      return { value: result.plaintext, version: result.keyVersion };
    });
  }

  /** Re-encrypts under the latest (or `keyVersion`) version without handing out the plaintext. */
  rewrap(
    name: string,
    ciphertext: string,
    options: KmsCryptOptions = {},
  ): { ciphertext: string; keyVersion: number } {
    return this.#use(name, 'rewrap', (key) => {
      const { plaintext } = decryptWithKey(this.#view(key), {
        ciphertext,
        ...this.#inputs(options),
      });
      try {
        const result = this.#encryptOne(key, plaintext, options);
        return { value: result, version: result.keyVersion };
      } finally {
        plaintext.fill(0);
      }
    });
  }

  /** A fresh data key and its ciphertext under `name` (envelope encryption). */
  generateDataKey(name: string, options: { bits?: 128 | 256 | 512; context?: BytesLike } = {}) {
    return this.#use(name, 'datakey', (key) => {
      const plaintext = randomDataKey(options.bits ?? 256);
      const { ciphertext, keyVersion } = this.#encryptOne(
        key,
        plaintext,
        options.context === undefined ? {} : { context: options.context },
      );
      return { value: { plaintext, ciphertext, keyVersion }, version: keyVersion };
    });
  }

  hmac(
    name: string,
    input: BytesLike,
    options: { algorithm?: string; keyVersion?: number } = {},
  ): string {
    return this.#use(name, 'hmac', (key) => {
      const mac = hmacWithKey(
        this.#view(key),
        toBuffer(input),
        options.algorithm,
        options.keyVersion,
      );
      return { value: mac, version: parseVersioned(mac).version };
    });
  }

  verifyHmac(name: string, input: BytesLike, hmac: string, algorithm?: string): boolean {
    return this.#use(name, 'verify-hmac', (key) => {
      const valid = verifyHmacWithKey(this.#view(key), toBuffer(input), hmac, algorithm);
      return { value: valid, version: parseVersioned(hmac).version };
    });
  }

  sign(
    name: string,
    input: BytesLike,
    options: SignatureOptions = {},
  ): { signature: string; keyVersion: number } {
    return this.#use(name, 'sign', (key) => {
      const result = signWithKey(this.#view(key), toBuffer(input), options);
      return { value: result, version: result.keyVersion };
    });
  }

  verify(
    name: string,
    input: BytesLike,
    signature: string,
    options: SignatureOptions = {},
  ): boolean {
    return this.#use(name, 'verify', (key) => {
      const valid = verifyWithKey(this.#view(key), toBuffer(input), signature, options);
      const urlSafe = options.marshalingAlgorithm === 'jws';
      return { value: valid, version: parseVersioned(signature, urlSafe).version };
    });
  }

  /**
   * The key with all its versions as a backup blob (`transit/restore` on the server accepts it).
   * Needs `exportable` and `allow_plaintext_backup`, and a key that is active, rotating or
   * inactive: a revoked, expired or pending-deletion key is never backed up (`ERR_KEY_DISABLED`).
   */
  backup(name: string): string {
    assertBackupAllowed(this.#key(name).policy, this.#now().getTime());
    return this.#backupOf(name);
  }

  /**
   * Imports a backup (from `backup` here or `transit/backup` on a server), checked field by field
   * before anything changes. `name` must be a valid key name; `force` replaces an existing key
   * only if it is active, rotating or inactive (a revoked key stays revoked); material that was
   * revoked here — with a key since deleted, or under another name — is never restored.
   */
  restore(blob: string, options: { name?: string; force?: boolean } = {}): void {
    if (options.name !== undefined) validateKeyName(options.name);
    const { policy, versions } = decodeBackup(blob);
    const name = options.name ?? policy.name;
    const existing = this.#keys.get(name);
    if (existing !== undefined && !options.force)
      throw new CustosError('ERR_KEY_EXISTS', `key ${name} exists`);
    if (existing !== undefined) assertReplaceable(existing.policy, this.#now().getTime());
    for (const { fingerprint, version } of materialFingerprints(versions))
      assertNotRevoked(version, this.#revoked.get(fingerprint));
    this.#keys.set(name, {
      policy: { ...policy, name },
      versions: new Map(versions.map((v) => [v.version, { ...v }])),
    });
    if (wasRevoked(policy)) this.#recordRevoked(name);
  }

  toJSON(): { keys: string[] } {
    return { keys: this.listKeys() };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `LocalKms(${this.listKeys().join(', ')})`;
  }

  /** Records the key's material as revoked, for good (kept after the key is deleted). */
  #recordRevoked(name: string): void {
    for (const { fingerprint } of materialFingerprints([...this.#key(name).versions.values()]))
      this.#revoked.set(fingerprint, name);
  }

  #backupOf(name: string): string {
    const key = this.#key(name);
    return encodeBackup({ policy: key.policy, versions: [...key.versions.values()] });
  }

  #key(name: string): StoredKey {
    const key = this.#keys.get(name);
    if (key === undefined)
      throw new CustosError('ERR_KEY_NOT_FOUND', `encryption key "${name}" not found`);
    return key;
  }

  #inputs(options: KmsCryptOptions) {
    const context = opt(options.context);
    const associatedData = opt(options.associatedData);
    return { ...(context ? { context } : {}), ...(associatedData ? { associatedData } : {}) };
  }

  #view(key: StoredKey): TransitKeyView {
    return {
      policy: key.policy,
      version: (v) => key.versions.get(v),
      nowMs: this.#now().getTime(),
    };
  }

  /**
   * Runs one operation and reports it to the usage log (operation, version, success; never
   * data) — failures too, from a missing key on.
   */
  #use<T>(
    name: string,
    operation: string,
    work: (key: StoredKey) => { value: T; version?: number },
  ): T {
    try {
      const { value, version } = work(this.#key(name));
      this.#onUsage?.({
        key: name,
        operation,
        ...(version === undefined ? {} : { version }),
        success: true,
        time: this.#now().toISOString(),
      });
      return value;
    } catch (err) {
      this.#onUsage?.({ key: name, operation, success: false, time: this.#now().toISOString() });
      throw err;
    }
  }

  #rotateKey(key: StoredKey): number {
    const now = this.#now();
    const version = key.policy.latest_version + 1;
    key.versions.set(version, createKeyVersion(key.policy.type, version, now));
    key.policy = { ...key.policy, latest_version: version, updated_time: now.toISOString() };
    return version;
  }

  /** One encryption, counted against the version it used. */
  #encryptOne(
    key: StoredKey,
    plaintext: Buffer,
    options: KmsCryptOptions,
  ): { ciphertext: string; keyVersion: number } {
    const result = encryptWithKey(this.#forEncryption(key, options.keyVersion), {
      plaintext,
      ...this.#inputs(options),
      ...(options.keyVersion === undefined ? {} : { keyVersion: options.keyVersion }),
    });
    (key.versions.get(result.keyVersion) as TransitKeyVersion).encryptions += 1;
    return result;
  }

  /**
   * The view to encrypt with: the latest version is rotated out first when due (by age, or
   * because it reached `rotate_after_encryptions`); an explicit version at its limit is refused.
   */
  #forEncryption(key: StoredKey, keyVersion: number | undefined): TransitKeyView {
    const latest = key.versions.get(key.policy.latest_version) as TransitKeyVersion;
    if (rotationDue(key.policy, latest, this.#now().getTime())) this.#rotateKey(key);
    const view = this.#view(key);
    const version = checkEncryption(view, keyVersion);
    const used = key.versions.get(version);
    if (used !== undefined && used.encryptions >= key.policy.rotate_after_encryptions)
      throw versionExhausted(key.policy, version);
    return view;
  }
}
