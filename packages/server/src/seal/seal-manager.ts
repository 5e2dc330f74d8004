import { randomUUID } from 'node:crypto';
import { Keyring } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { BARRIER_KEY, type BarrierKeys, retryOnConflict } from '../barrier/barrier.js';
import { Sealed, ServerError } from '../errors.js';
import type { EntryStore } from '../storage/entry-store.js';
import { CORE } from '../storage/layout.js';
import { combineRootKey, createRootKey, SHARE_LENGTH } from './root-key.js';
import {
  insertKeyring,
  openStoredKeyring,
  readKeyringEntry,
  replaceKeyring,
} from './stored-keyring.js';

/** Stored in the clear: it holds only the share counts. */
const SEAL_CONFIG_PATH = CORE.prefix + CORE.sealConfig;

interface SealConfig {
  secret_shares: number;
  secret_threshold: number;
  created_time: string;
}

/** What `sys/seal-status` reports. */
export interface SealStatus {
  readonly initialized: boolean;
  readonly sealed: boolean;
  /** Threshold and number of shares (0 before init). */
  readonly t: number;
  readonly n: number;
  readonly progress: number;
  /** Identifies the unseal attempt in progress ('' when none). */
  readonly nonce: string;
}

/**
 * Where an initialised server stands (see `NOTES.md`). Keys are held in `unsealing`,
 * `unsealed` and `sealing`; requests that need the keys are admitted only in `unsealed`.
 */
export type SealPhase = 'sealed' | 'unsealing' | 'unsealed' | 'sealing';

/**
 * The seal state machine: uninitialised → sealed → unsealing → unsealed → sealing → sealed
 * (see `NOTES.md`). While sealed the manager holds no key material: the root key and the
 * barrier keyring exist only from a successful share combination to the end of the next seal.
 *
 * @example
 * ```ts
 * const seal = new SealManager(store);
 * await seal.load();
 * const keyShares = await seal.initialize(5, 3);
 * for (const share of keyShares.slice(0, 3)) await seal.submitShare(share);
 * seal.isUnsealed(); // true
 * ```
 */
export class SealManager implements BarrierKeys {
  readonly #store: EntryStore;
  #config: SealConfig | undefined;
  #phase: SealPhase = 'sealed';
  #keyring: Keyring | undefined;
  /** Revision of the `core/keyring` entry `#keyring` was read from (reloads never go back). */
  #keyringRevision = 0;
  #rootKey: Buffer | undefined;
  #pending: Buffer[] = [];
  #nonce = '';
  /** The unseal in progress (combination, keyring, hooks), awaited by a seal that meets it. */
  #unsealing: Promise<void> | undefined;
  /** The seal in progress, shared by concurrent callers. */
  #sealing: Promise<void> | undefined;
  readonly #unsealHooks: (() => Promise<void>)[] = [];
  readonly #beforeSealHooks: (() => Promise<void>)[] = [];
  readonly #sealHooks: (() => void)[] = [];

  constructor(store: EntryStore) {
    this.#store = store;
  }

  /** Reads whether the storage has been initialised. Call once at start. */
  async load(): Promise<void> {
    const entry = await this.#store.get(SEAL_CONFIG_PATH);
    this.#config = entry
      ? (JSON.parse(Buffer.from(entry.value).toString('utf8')) as SealConfig)
      : undefined;
  }

  isInitialized(): boolean {
    return this.#config !== undefined;
  }

  phase(): SealPhase {
    return this.#phase;
  }

  /** Unsealed and ready to serve: the keys are open and every unseal hook has finished. */
  isUnsealed(): boolean {
    return this.#phase === 'unsealed';
  }

  /**
   * Admission check for a request that needs the keys: throws `ERR_NOT_INITIALIZED` or
   * `ERR_SEALED` unless the phase is `unsealed` (an unseal whose hooks still run, such as the
   * audit log being opened, or a seal in progress, refuses like a sealed server).
   */
  requireUnsealed(): void {
    if (this.#phase === 'unsealed') return;
    throw this.#config === undefined
      ? new ServerError('ERR_NOT_INITIALIZED', 'the server is not initialized')
      : new Sealed('Vault is sealed');
  }

  status(): SealStatus {
    return {
      initialized: this.#config !== undefined,
      sealed: this.#phase !== 'unsealed',
      t: this.#config?.secret_threshold ?? 0,
      n: this.#config?.secret_shares ?? 0,
      progress: this.#pending.length,
      nonce: this.#nonce,
    };
  }

  /**
   * Registers work to finish after the keys are open and before requests are admitted (it may
   * use the barrier). A failing hook seals the server again.
   */
  onUnseal(hook: () => Promise<void>): void {
    this.#unsealHooks.push(hook);
  }

  /**
   * Registers work to finish when a seal starts, while the keys are still held and no new
   * request is admitted (close the audit log, flush counters). A failing hook does not stop
   * the seal.
   */
  onBeforeSeal(hook: () => Promise<void>): void {
    this.#beforeSealHooks.push(hook);
  }

  /** Registers work to run once the keys are dropped (clear caches derived from them). */
  onSeal(hook: () => void): void {
    this.#sealHooks.push(hook);
  }

  /**
   * Creates the root key and the barrier keyring and stores them (the keyring encrypted under
   * the root key). Returns the key shares, once; the server stays sealed.
   */
  async initialize(shares: number, threshold: number): Promise<Buffer[]> {
    await this.load();
    if (this.#config !== undefined) {
      throw new ServerError('ERR_ALREADY_INITIALIZED', 'the server is already initialized');
    }
    validateShareCounts(shares, threshold);
    const { rootKey, keyShares } = await createRootKey(shares, threshold);
    const keyring = new Keyring();
    keyring.createKey(BARRIER_KEY);
    const config: SealConfig = {
      secret_shares: shares,
      secret_threshold: threshold,
      created_time: new Date().toISOString(),
    };
    await this.#store.transaction(async (tx) => {
      await insertKeyring(tx, rootKey, keyring);
      await tx.insert(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
    });
    rootKey.fill(0);
    this.#config = config;
    return keyShares;
  }

  /**
   * Adds one unseal key share. When `t` distinct shares are in, reproduces the root key,
   * verifies it, opens the barrier keyring and runs the unseal hooks; on failure the progress
   * is reset, the server stays sealed and the error is thrown (`ERR_UNSEAL_FAILED` for a wrong
   * combination). A share that arrives while a seal is finishing waits for it, then counts;
   * while unsealing or unsealed a share is not taken: the status is returned.
   */
  async submitShare(share: Buffer): Promise<SealStatus> {
    if (this.#config === undefined) await this.load();
    const config = this.#config;
    if (config === undefined) {
      throw new ServerError('ERR_NOT_INITIALIZED', 'the server is not initialized');
    }
    // An operator who unseals right after a seal must not see the share silently dropped.
    if (this.#phase === 'sealing') await this.#sealing;
    if (this.#phase !== 'sealed') return this.status();
    if (share.length !== SHARE_LENGTH) {
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `an unseal key is ${SHARE_LENGTH} bytes (hex or base64); this one is ${share.length}`,
      );
    }
    const index = share[share.length - 1];
    if (this.#pending.some((p) => p.equals(share) || p[p.length - 1] === index)) {
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        'this unseal key (or another with the same share index) was already provided',
      );
    }
    if (this.#pending.length === 0) this.#nonce = randomUUID();
    this.#pending.push(Buffer.from(share));
    if (this.#pending.length < config.secret_threshold) return this.status();

    const shares = this.#pending;
    this.#pending = [];
    this.#nonce = '';
    this.#phase = 'unsealing';
    this.#unsealing = this.#unseal(shares, config.secret_threshold);
    try {
      await this.#unsealing;
    } finally {
      this.#unsealing = undefined;
    }
    return this.status();
  }

  /** Forgets the shares of an unseal attempt in progress. */
  resetProgress(): void {
    for (const s of this.#pending) s.fill(0);
    this.#pending = [];
    this.#nonce = '';
  }

  /**
   * Seals: stops admitting requests, runs the before-seal hooks while the keys are still held,
   * zeroes the root key, drops the keyring and runs the seal hooks. An unseal in progress is
   * let finish first; concurrent calls share one seal.
   */
  seal(): Promise<void> {
    this.#sealing ??= this.#seal().finally(() => {
      this.#sealing = undefined;
    });
    return this.#sealing;
  }

  /**
   * The barrier keyring. Available while the keys are held (to the unseal hooks before
   * requests are admitted, and to the before-seal hooks); throws `ERR_SEALED` (or
   * `ERR_NOT_INITIALIZED`) otherwise.
   */
  keyring(): Keyring {
    if (this.#keyring === undefined) {
      throw this.#config === undefined
        ? new ServerError('ERR_NOT_INITIALIZED', 'the server is not initialized')
        : new Sealed('Vault is sealed');
    }
    return this.#keyring;
  }

  /**
   * Re-reads the keyring from storage: another node rotated the barrier key. A reload never
   * replaces the keyring with one read from an older revision than the one held.
   */
  async reloadKeyring(): Promise<void> {
    const rootKey = this.#heldRootKey();
    const entry = await readKeyringEntry(this.#store);
    if (this.#rootKey !== rootKey) throw new Sealed('Vault is sealed');
    if (entry.revision <= this.#keyringRevision) return;
    this.#adopt(openStoredKeyring(rootKey, entry, this.#keyring));
  }

  /**
   * Adds a new barrier key version: new writes use it, existing entries still decrypt. The
   * version is added to the keyring as stored (not to this node's copy, which may miss another
   * node's rotation) and written back only if nobody rewrote it meanwhile; a lost race is
   * retried on the fresh keyring.
   */
  async rotateBarrierKey(): Promise<number> {
    return retryOnConflict(async () => {
      const rootKey = this.#heldRootKey();
      const entry = await readKeyringEntry(this.#store);
      if (this.#rootKey !== rootKey) throw new Sealed('Vault is sealed');
      const { keyring } = openStoredKeyring(rootKey, entry, this.#keyring);
      const version = keyring.rotate(BARRIER_KEY);
      const revision = await replaceKeyring(this.#store, rootKey, keyring, entry.revision);
      // Sealed meanwhile: the rotation is stored, but this node no longer holds keys.
      if (this.#rootKey === rootKey) this.#adopt({ keyring, revision });
      return version;
    });
  }

  #heldRootKey(): Buffer {
    if (this.#rootKey === undefined) throw new Sealed('Vault is sealed');
    return this.#rootKey;
  }

  #adopt(stored: { keyring: Keyring; revision: number }): void {
    if (stored.revision <= this.#keyringRevision) return;
    this.#keyring = stored.keyring;
    this.#keyringRevision = stored.revision;
  }

  async #unseal(shares: Buffer[], threshold: number): Promise<void> {
    let rootKey: Buffer | undefined;
    try {
      rootKey = await combineRootKey(shares, threshold);
      const { keyring, revision } = openStoredKeyring(rootKey, await readKeyringEntry(this.#store));
      this.#rootKey = rootKey;
      this.#keyring = keyring;
      this.#keyringRevision = revision;
      for (const hook of this.#unsealHooks) await hook();
      this.#phase = 'unsealed';
    } catch (err) {
      await this.#closeKeys();
      rootKey?.fill(0);
      throw err;
    } finally {
      for (const s of shares) s.fill(0);
    }
  }

  async #seal(): Promise<void> {
    this.resetProgress();
    await this.#unsealing?.catch(() => {});
    if (this.#phase !== 'unsealed') return;
    await this.#closeKeys();
  }

  /** The end of every seal, and of a failed unseal: before-seal hooks, then keys dropped. */
  async #closeKeys(): Promise<void> {
    const held = this.#keyring !== undefined;
    this.#phase = 'sealing';
    if (held) {
      for (const hook of this.#beforeSealHooks) await hook().catch(() => {});
    }
    this.#rootKey?.fill(0);
    this.#rootKey = undefined;
    this.#keyring = undefined;
    this.#keyringRevision = 0;
    this.#phase = 'sealed';
    if (held) for (const hook of this.#sealHooks) hook();
  }
}

function validateShareCounts(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || shares < 1 || shares > 255) {
    throw new CustosError('ERR_INVALID_REQUEST', 'secret_shares must be an integer from 1 to 255');
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      'secret_threshold must be an integer from 1 to secret_shares',
    );
  }
  if (shares > 1 && threshold < 2) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      'secret_threshold must be at least 2 when there is more than one share',
    );
  }
}
