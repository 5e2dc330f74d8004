import { randomUUID } from 'node:crypto';
import { Keyring, loadKeyring, serializeKeyring } from '@custos/core/crypto';
import { CustosError, Sealed } from '@custos/core/errors';
import { BARRIER_KEY, type BarrierKeys } from '../barrier/barrier.js';
import type { EntryStore } from '../storage/entry-store.js';
import {
  combineRootKey,
  createRootKey,
  decryptKeyring,
  encryptKeyring,
  SHARE_LENGTH,
} from './root-key.js';

/** Stored in the clear: it holds only the share counts. */
const SEAL_CONFIG_PATH = 'core/seal-config';
/** The barrier keyring, encrypted under the root key (not the barrier). */
const KEYRING_PATH = 'core/keyring';

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
 * The seal state machine: uninitialised → sealed ⇄ unsealed (see `NOTES.md`). While sealed
 * the manager holds no key material: the barrier keyring exists only between a successful
 * unseal and the next seal.
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
  #keyring: Keyring | undefined;
  #rootKey: Buffer | undefined;
  #pending: Buffer[] = [];
  #nonce = '';
  /** True once the unseal hooks have run: only then are requests admitted. */
  #ready = false;
  readonly #unsealHooks: (() => Promise<void>)[] = [];
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

  /** Unsealed and ready to serve (the unseal hooks, such as opening the audit log, have run). */
  isUnsealed(): boolean {
    return this.#ready;
  }

  status(): SealStatus {
    return {
      initialized: this.#config !== undefined,
      sealed: !this.#ready,
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

  /** Registers work to run when the server seals (drop caches derived from keys). */
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
      throw new CustosError('ERR_ALREADY_INITIALIZED', 'the server is already initialized');
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
      await tx.insert(KEYRING_PATH, encryptKeyring(rootKey, serializeKeyring(keyring)));
      await tx.insert(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
    });
    rootKey.fill(0);
    this.#config = config;
    return keyShares;
  }

  /**
   * Adds one unseal key share. When `t` distinct shares are in, reproduces the root key,
   * verifies it and opens the barrier keyring; on failure the progress is reset and
   * `ERR_UNSEAL_FAILED` is thrown.
   */
  async submitShare(share: Buffer): Promise<SealStatus> {
    if (this.#config === undefined) await this.load();
    const config = this.#config;
    if (config === undefined) {
      throw new CustosError('ERR_NOT_INITIALIZED', 'the server is not initialized');
    }
    if (this.#keyring !== undefined) return this.status();
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
    this.resetProgress();
    try {
      const rootKey = await combineRootKey(shares, config.secret_threshold);
      await this.#openKeyring(rootKey);
    } finally {
      for (const s of shares) s.fill(0);
    }
    return this.status();
  }

  /** Forgets the shares of an unseal attempt in progress. */
  resetProgress(): void {
    this.#pending = [];
    this.#nonce = '';
  }

  /** Drops every key from memory; the seal hooks clear what was derived from them. */
  seal(): void {
    this.resetProgress();
    const wasUnsealed = this.#keyring !== undefined;
    this.#ready = false;
    this.#rootKey?.fill(0);
    this.#rootKey = undefined;
    this.#keyring = undefined;
    if (wasUnsealed) for (const hook of this.#sealHooks) hook();
  }

  /**
   * The barrier keyring. Available to the unseal hooks before requests are admitted; throws
   * `ERR_SEALED` (or `ERR_NOT_INITIALIZED`) while sealed.
   */
  keyring(): Keyring {
    if (this.#keyring === undefined) {
      throw this.#config === undefined
        ? new CustosError('ERR_NOT_INITIALIZED', 'the server is not initialized')
        : new Sealed('Vault is sealed');
    }
    return this.#keyring;
  }

  async reloadKeyring(): Promise<void> {
    if (this.#rootKey === undefined) throw new Sealed('Vault is sealed');
    await this.#openKeyring(this.#rootKey);
  }

  /** Adds a new barrier key version: new writes use it, existing entries still decrypt. */
  async rotateBarrierKey(): Promise<number> {
    const rootKey = this.#rootKey;
    if (rootKey === undefined) throw new Sealed('Vault is sealed');
    const keyring = this.keyring();
    const version = keyring.rotate(BARRIER_KEY);
    await this.#store.put(KEYRING_PATH, encryptKeyring(rootKey, serializeKeyring(keyring)));
    return version;
  }

  async #openKeyring(rootKey: Buffer): Promise<void> {
    const entry = await this.#store.get(KEYRING_PATH);
    if (entry === undefined)
      throw new CustosError('ERR_NOT_INITIALIZED', 'the barrier keyring is missing');
    const keyring = loadKeyring(decryptKeyring(rootKey, entry.value));
    const wasSealed = this.#keyring === undefined;
    this.#keyring = keyring;
    this.#rootKey = rootKey;
    if (!wasSealed) return;
    try {
      for (const hook of this.#unsealHooks) await hook();
    } catch (err) {
      this.seal();
      throw err;
    }
    this.#ready = true;
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
