import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Keyring } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { BARRIER_KEY, type BarrierKeys, retryOnConflict } from '../barrier/barrier.js';
import { isServerError, Sealed, ServerError } from '../errors.js';
import type { EntryStore, EntryWriter, StoredEntry } from '../storage/entry-store.js';
import { CORE } from '../storage/layout.js';
import { combineRootKey, createRootKey, SHARE_LENGTH } from './root-key.js';
import type { RootKeyWrapper, SealType, WrappedRootKey } from './root-key-wrapper.js';
import {
  insertKeyring,
  openStoredKeyring,
  readKeyringEntry,
  replaceKeyring,
} from './stored-keyring.js';

/** Stored in the clear: it holds only the share counts. */
const SEAL_CONFIG_PATH = CORE.prefix + CORE.sealConfig;
/** The root key after a rekey, under the barrier keyring (see `NOTES.md`). */
const ROOT_KEY_PATH = CORE.prefix + CORE.rootKey;
/** Auto-unseal: the root key wrapped by the seal (stored in the clear: it is wrapped). */
const WRAPPED_ROOT_KEY_PATH = CORE.prefix + CORE.wrappedRootKey;
/** Auto-unseal: the recovery key, under the barrier keyring (it authorises, never unseals). */
const RECOVERY_KEY_PATH = CORE.prefix + CORE.recoveryKey;

interface SealConfig {
  /** Absent in storage written before auto-unseal: `shamir`. */
  type?: SealType;
  secret_shares: number;
  secret_threshold: number;
  /** Auto-unseal only: the recovery share counts. */
  recovery_shares?: number;
  recovery_threshold?: number;
  /**
   * Auto-unseal: a random id (UUID) the cloud seals bind the wrapped root key to, so a root key
   * wrapped for another cluster by the same cloud key does not unwrap here. Made at the first
   * wrap (init or migration), kept after.
   */
  cluster_id?: string;
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
  readonly #wrapper: RootKeyWrapper | undefined;
  /** The seal stanza says `disabled`: migrate from it back to Shamir unseal keys. */
  readonly #migrateAway: boolean;

  /**
   * `wrapper`: the auto-unseal seal of the configuration (none: Shamir unseal keys);
   * `migrateAway`: the stanza is `disabled` (Vault's name): migrate back to Shamir.
   */
  constructor(
    store: EntryStore,
    wrapper?: RootKeyWrapper,
    options: { migrateAway?: boolean } = {},
  ) {
    this.#store = store;
    this.#wrapper = wrapper;
    this.#migrateAway = options.migrateAway === true;
  }

  /** The seal type in force: the stored one once initialised, else the configured one. */
  sealType(): SealType {
    return (
      this.#config?.type ??
      (this.#config === undefined ? this.#wrapper?.type : undefined) ??
      'shamir'
    );
  }

  /** Whether shares are recovery shares (auto-unseal) rather than unseal shares. */
  isRecoverySeal(): boolean {
    return this.sealType() !== 'shamir';
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
    const counts = this.#config === undefined ? undefined : this.shareCounts();
    return {
      initialized: this.#config !== undefined,
      sealed: this.#phase !== 'unsealed',
      t: counts?.threshold ?? 0,
      n: counts?.shares ?? 0,
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
    if (this.#wrapper !== undefined) return this.#initializeAuto(this.#wrapper, shares, threshold);
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
   * Auto-unseal init: a random root key wrapped by the seal (stored with the wrapping key's
   * version), and a separate recovery key split into `shares` (returned once). The recovery key
   * is stored under the barrier keyring: it authorises a root token generation, never unseals.
   */
  async #initializeAuto(
    wrapper: RootKeyWrapper,
    shares: number,
    threshold: number,
  ): Promise<Buffer[]> {
    const rootKey = (await createRootKey(1, 1)).rootKey;
    const recovery = await createRootKey(shares, threshold);
    const clusterId = randomUUID();
    try {
      const wrapped = await wrapper.wrap(rootKey, { clusterId });
      const keyring = new Keyring();
      keyring.createKey(BARRIER_KEY);
      const config: SealConfig = {
        type: wrapper.type,
        secret_shares: 1,
        secret_threshold: 1,
        recovery_shares: shares,
        recovery_threshold: threshold,
        cluster_id: clusterId,
        created_time: new Date().toISOString(),
      };
      await this.#store.transaction(async (tx) => {
        await insertKeyring(tx, rootKey, keyring);
        await tx.insert(WRAPPED_ROOT_KEY_PATH, Buffer.from(JSON.stringify(wrapped)));
        await tx.insert(
          RECOVERY_KEY_PATH,
          keyring.encrypt(BARRIER_KEY, recovery.rootKey.toString('base64'), {
            aad: { path: RECOVERY_KEY_PATH },
          }),
        );
        await tx.insert(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
      });
      this.#config = config;
      return recovery.keyShares;
    } finally {
      rootKey.fill(0);
      recovery.rootKey.fill(0);
    }
  }

  /**
   * Auto-unseal: unwraps the stored root key with the configured seal, opens the keyring and
   * runs the unseal hooks. Throws `ERR_SEAL_UNAVAILABLE` when the seal cannot unwrap (the
   * server stays sealed, nothing is written); does nothing unless sealed.
   */
  async autoUnseal(): Promise<SealStatus> {
    await this.load();
    const config = this.#config;
    if (config === undefined)
      throw new ServerError('ERR_NOT_INITIALIZED', 'the server is not initialized');
    const wrapper = this.#wrapper;
    const stored = config.type ?? 'shamir';
    if (this.#migrateAway && wrapper !== undefined && wrapper.type === stored)
      throw new ServerError(
        'ERR_SEAL_UNAVAILABLE',
        `the ${stored} seal is disabled for a migration: give the recovery keys to sys/unseal with "migrate": true (docs/operations.md, "Seal migration")`,
      );
    if (wrapper === undefined || wrapper.type !== stored)
      throw new ServerError(
        'ERR_SEAL_UNAVAILABLE',
        wrapper !== undefined && stored === 'shamir'
          ? `the storage is sealed with unseal keys but the configuration has a ${wrapper.type} seal: unseal with "migrate": true to migrate (docs/operations.md, "Seal migration")`
          : `the storage is sealed with a ${stored} seal but the configuration has ${wrapper === undefined ? 'no seal stanza' : `a ${wrapper.type} seal`} (docs/operations.md, "Seal migration")`,
      );
    if (this.#phase === 'sealing') await this.#sealing;
    if (this.#phase === 'unsealing') await this.#unsealing?.catch(() => {});
    if (this.#phase !== 'sealed') return this.status();
    const entry = await this.#store.get(WRAPPED_ROOT_KEY_PATH);
    if (entry === undefined)
      throw new ServerError('ERR_STORAGE_INTEGRITY', 'the wrapped root key is missing');
    const wrapped = JSON.parse(Buffer.from(entry.value).toString('utf8')) as WrappedRootKey;
    // Another caller may have started meanwhile (the read above awaited).
    if (this.phase() === 'unsealing') await this.#unsealing?.catch(() => {});
    if (this.phase() !== 'sealed') return this.status();
    this.#phase = 'unsealing';
    const binding = { clusterId: config.cluster_id };
    this.#unsealing = this.#openWith(() => wrapper.unwrap(wrapped, binding));
    try {
      await this.#unsealing;
    } finally {
      this.#unsealing = undefined;
    }
    return this.status();
  }

  /**
   * Adds one unseal key share. When `t` distinct shares are in, reproduces the root key,
   * verifies it, opens the barrier keyring and runs the unseal hooks; on failure the progress
   * is reset, the server stays sealed and the error is thrown (`ERR_UNSEAL_FAILED` for a wrong
   * combination). A share that arrives while a seal is finishing waits for it, then counts;
   * while unsealing or unsealed a share is not taken: the status is returned.
   */
  async submitShare(share: Buffer, options: { migrate?: boolean } = {}): Promise<SealStatus> {
    if (this.#config === undefined) await this.load();
    const config = this.#config;
    if (config === undefined) {
      throw new ServerError('ERR_NOT_INITIALIZED', 'the server is not initialized');
    }
    // An operator who unseals right after a seal must not see the share silently dropped.
    if (this.#phase === 'sealing') await this.#sealing;
    if (this.#phase !== 'sealed') return this.status();
    // A rekey on another server may have changed the share counts since this one read them.
    if (this.#pending.length === 0) await this.load();
    const pending = this.migrationPending();
    if (this.isRecoverySeal() && !pending)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        'this server unseals itself with its auto-unseal seal; recovery keys do not unseal it',
      );
    if (pending && !options.migrate)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        this.isRecoverySeal()
          ? 'the seal stanza is disabled: give the recovery keys with "migrate": true to migrate to unseal keys (docs/operations.md)'
          : 'the configuration names an auto-unseal seal but the storage is sealed with unseal keys: unseal with "migrate": true to migrate (docs/operations.md)',
      );
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
    const threshold = this.shareCounts().threshold;
    if (this.#pending.length < threshold) return this.status();

    const shares = this.#pending;
    this.#pending = [];
    this.#nonce = '';
    this.#phase = 'unsealing';
    const wrapper = pending ? this.#wrapper : undefined;
    this.#unsealing = (
      wrapper !== undefined && this.isRecoverySeal()
        ? this.#migrateToShamir(wrapper, shares, threshold)
        : this.#openWith(
            () => combineRootKey(shares, threshold),
            wrapper === undefined ? undefined : (rootKey) => this.#migrateToAuto(wrapper, rootKey),
          )
    ).finally(() => {
      for (const s of shares) s.fill(0);
    });
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
    this.#adopt(await this.#openCurrent(entry));
  }

  /**
   * Adds a new barrier key version: new writes use it, existing entries still decrypt. The
   * version is added to the keyring as stored (not to this node's copy, which may miss another
   * node's rotation) and written back only if nobody rewrote it meanwhile; a lost race is
   * retried on the fresh keyring.
   */
  async rotateBarrierKey(): Promise<number> {
    return retryOnConflict(async () => {
      this.#heldRootKey();
      const entry = await readKeyringEntry(this.#store);
      const { keyring } = await this.#openCurrent(entry);
      const rootKey = this.#heldRootKey();
      const version = keyring.rotate(BARRIER_KEY);
      const revision = await replaceKeyring(this.#store, rootKey, keyring, entry.revision);
      // Sealed meanwhile: the rotation is stored, but this node no longer holds keys.
      if (this.#rootKey === rootKey) this.#adopt({ keyring, revision });
      return version;
    });
  }

  /** The share counts in force (threshold `t` of `n`); throws when not initialised. */
  shareCounts(): { readonly shares: number; readonly threshold: number } {
    const config = this.#config;
    if (config === undefined)
      throw new ServerError('ERR_NOT_INITIALIZED', 'the server is not initialized');
    if ((config.type ?? 'shamir') !== 'shamir')
      return {
        shares: config.recovery_shares as number,
        threshold: config.recovery_threshold as number,
      };
    return { shares: config.secret_shares, threshold: config.secret_threshold };
  }

  /** Refuses `operation` under auto-unseal (it needs unseal shares of the root key). */
  requireShamir(operation: string): void {
    if (this.isRecoverySeal())
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `${operation} is not available with an auto-unseal seal (recovery keys do not split the root key): rotate the recovery keys with sys/rekey-recovery-key`,
      );
  }

  /** Refuses `operation` unless the server has an auto-unseal seal (and so recovery keys). */
  requireRecoverySeal(operation: string): void {
    if (!this.isRecoverySeal())
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `${operation} needs an auto-unseal seal: this server has unseal keys (rekey them with sys/rekey)`,
      );
  }

  /**
   * Replaces the recovery key (a recovery key rekey, auto-unseal only): the new recovery key is
   * stored under the barrier keyring with the new recovery counts, in one transaction refused if
   * the seal was migrated meanwhile. The root key and the data do not change; the old recovery
   * shares no longer reproduce the stored recovery key, so they stop authorising at once (every
   * server reads the recovery key from storage when it checks shares).
   */
  async replaceRecoveryKey(recoveryKey: Buffer, shares: number, threshold: number): Promise<void> {
    validateShareCounts(shares, threshold);
    const keyring = this.keyring();
    const config = await this.#store.transaction(async (tx) => {
      const current = await tx.get(SEAL_CONFIG_PATH);
      const stored =
        current === undefined
          ? undefined
          : (JSON.parse(Buffer.from(current.value).toString('utf8')) as SealConfig);
      if (stored === undefined || (stored.type ?? 'shamir') === 'shamir')
        throw new CustosError('ERR_INVALID_REQUEST', 'the seal was migrated meanwhile');
      const next: SealConfig = {
        ...stored,
        recovery_shares: shares,
        recovery_threshold: threshold,
      };
      await tx.put(
        RECOVERY_KEY_PATH,
        keyring.encrypt(BARRIER_KEY, recoveryKey.toString('base64'), {
          aad: { path: RECOVERY_KEY_PATH },
        }),
      );
      await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(next)));
      return next;
    });
    this.#config = config;
  }

  /**
   * Checks that `shares` (a threshold of the current key shares) reproduce the root key this
   * server holds: the authorisation of a rekey or a root token generation. The shares are
   * zeroed; a wrong combination throws `ERR_UNSEAL_FAILED`.
   */
  async authorize(shares: readonly Buffer[]): Promise<void> {
    await this.load();
    const { threshold } = this.shareCounts();
    let combined: Buffer | undefined;
    try {
      combined = await combineRootKey(shares, threshold).catch(() => undefined);
      const held = this.isRecoverySeal() ? await this.#recoveryKey() : this.#heldRootKey();
      if (combined === undefined || !timingSafeEqual(combined, held))
        throw new ServerError(
          'ERR_UNSEAL_FAILED',
          'the keys given do not reproduce the root key (wrong keys, or keys of a previous key set); progress was reset',
        );
    } finally {
      combined?.fill(0);
      for (const s of shares) s.fill(0);
    }
  }

  /**
   * Replaces the root key (a rekey): the stored barrier keyring is encrypted under `rootKey`
   * instead, the share counts are stored, and the new root key is left under the barrier
   * keyring for the other servers that hold the old one (see `NOTES.md`). Data is not
   * re-encrypted; the old shares no longer open the keyring.
   */
  async replaceRootKey(rootKey: Buffer, shares: number, threshold: number): Promise<void> {
    validateShareCounts(shares, threshold);
    const config: SealConfig = {
      ...(this.#config as SealConfig),
      secret_shares: shares,
      secret_threshold: threshold,
    };
    const stored = await retryOnConflict(() =>
      this.#store.transaction(async (tx) => {
        const entry = await readKeyringEntry(tx);
        const { keyring } = await this.#openCurrent(entry, tx);
        const revision = await replaceKeyring(tx, rootKey, keyring, entry.revision);
        await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
        await tx.put(
          ROOT_KEY_PATH,
          keyring.encrypt(BARRIER_KEY, rootKey.toString('base64'), {
            aad: { path: ROOT_KEY_PATH },
          }),
        );
        return { keyring, revision };
      }),
    );
    this.#config = config;
    const old = this.#rootKey;
    if (old === undefined) return; // sealed meanwhile: the new key is stored, none is held
    this.#rootKey = Buffer.from(rootKey);
    old.fill(0);
    this.#adopt(stored);
  }

  /**
   * Opens a stored keyring with the root key held; when that key no longer opens it (a rekey
   * on another server), takes the new root key left under the barrier keyring and opens it
   * with that. A server that cannot follow (the new root key is under a barrier key version it
   * lacks) is told to be unsealed again with the new keys.
   */
  async #openCurrent(entry: StoredEntry, reader: EntryWriter = this.#store) {
    const held = this.#heldRootKey();
    try {
      return openStoredKeyring(held, entry, this.#keyring);
    } catch (err) {
      if (!isServerError(err, 'ERR_UNSEAL_FAILED')) throw err;
    }
    const handover = await reader.get(ROOT_KEY_PATH);
    let rootKey: Buffer;
    try {
      if (handover === undefined) throw new Error('no root key handover');
      rootKey = Buffer.from(
        this.keyring()
          .decrypt(handover.value, { aad: { path: ROOT_KEY_PATH } })
          .toString('utf8'),
        'base64',
      );
    } catch {
      throw new ServerError(
        'ERR_STORAGE_INTEGRITY',
        'the root key was changed by a rekey this server cannot follow: seal it and unseal it with the new keys',
      );
    }
    const opened = openStoredKeyring(rootKey, entry, this.#keyring);
    if (this.#rootKey === held) {
      this.#rootKey = rootKey;
      held.fill(0);
      const config = await reader.get(SEAL_CONFIG_PATH);
      if (config !== undefined)
        this.#config = JSON.parse(Buffer.from(config.value).toString('utf8')) as SealConfig;
    }
    return opened;
  }

  /** The recovery key (auto-unseal), read under the barrier keyring. */
  async #recoveryKey(): Promise<Buffer> {
    this.#heldRootKey();
    const entry = await this.#store.get(RECOVERY_KEY_PATH);
    if (entry === undefined)
      throw new ServerError('ERR_STORAGE_INTEGRITY', 'the recovery key is missing');
    return Buffer.from(
      this.keyring()
        .decrypt(entry.value, { aad: { path: RECOVERY_KEY_PATH } })
        .toString('utf8'),
      'base64',
    );
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

  /**
   * Whether the configuration names an auto-unseal seal while the storage is still sealed with
   * unseal keys: `sys/unseal` with `migrate: true` migrates (seal-status `migration: true`).
   */
  migrationPending(): boolean {
    if (this.#wrapper === undefined || this.#config === undefined) return false;
    const stored = this.#config.type ?? 'shamir';
    return this.#migrateAway ? stored === this.#wrapper.type : stored === 'shamir';
  }

  /**
   * Auto-unseal → Shamir (the stanza `disabled`): the root key is unwrapped by the seal, the
   * recovery shares must reproduce the stored recovery key, and the recovery key becomes the
   * root key: `core/keyring` is re-encrypted under it, the wrapped root key and recovery key
   * entries are deleted and the recovery counts become the unseal counts, in one transaction.
   * The recovery keys are the unseal keys from then on.
   */
  #migrateToShamir(wrapper: RootKeyWrapper, shares: Buffer[], threshold: number): Promise<void> {
    let candidate: Buffer | undefined;
    return this.#openWith(
      async () => {
        candidate = await combineRootKey(shares, threshold);
        const entry = await this.#store.get(WRAPPED_ROOT_KEY_PATH);
        if (entry === undefined)
          throw new ServerError('ERR_STORAGE_INTEGRITY', 'the wrapped root key is missing');
        return wrapper.unwrap(JSON.parse(Buffer.from(entry.value).toString('utf8')), {
          clusterId: this.#config?.cluster_id,
        });
      },
      async () => {
        const recovery = await this.#recoveryKey();
        const newRoot = candidate as Buffer;
        try {
          if (!timingSafeEqual(recovery, newRoot))
            throw new ServerError(
              'ERR_UNSEAL_FAILED',
              'the recovery keys given do not reproduce the recovery key; progress was reset',
            );
        } finally {
          recovery.fill(0);
        }
        const old = this.#config as SealConfig;
        const config: SealConfig = {
          secret_shares: old.recovery_shares as number,
          secret_threshold: old.recovery_threshold as number,
          ...(old.cluster_id === undefined ? {} : { cluster_id: old.cluster_id }),
          created_time: old.created_time,
        };
        const keyring = this.keyring();
        const revision = await this.#store.transaction(async (tx) => {
          const entry = await readKeyringEntry(tx);
          const next = await replaceKeyring(tx, newRoot, keyring, entry.revision);
          await tx.delete(WRAPPED_ROOT_KEY_PATH);
          await tx.delete(RECOVERY_KEY_PATH);
          await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
          return next;
        });
        this.#config = config;
        this.#rootKey?.fill(0);
        this.#rootKey = Buffer.from(newRoot);
        this.#adopt({ keyring, revision });
      },
    ).finally(() => candidate?.fill(0));
  }

  /**
   * Shamir → auto-unseal, with the root key just combined (before the unseal hooks): the root key
   * is wrapped by the seal and stored, the unseal keys become recovery keys (the root key is
   * stored as the recovery key under the barrier keyring, the counts as recovery counts), in one
   * transaction. The old `core/keyring` is untouched: data is not re-encrypted.
   */
  async #migrateToAuto(wrapper: RootKeyWrapper, rootKey: Buffer): Promise<void> {
    const old = this.#config as SealConfig;
    const clusterId = old.cluster_id ?? randomUUID();
    const wrapped = await wrapper.wrap(rootKey, { clusterId });
    const config: SealConfig = {
      ...old,
      cluster_id: clusterId,
      type: wrapper.type,
      secret_shares: 1,
      secret_threshold: 1,
      recovery_shares: old.secret_shares,
      recovery_threshold: old.secret_threshold,
    };
    const keyring = this.keyring();
    await this.#store.transaction(async (tx) => {
      const current = await tx.get(SEAL_CONFIG_PATH);
      if (current === undefined || JSON.parse(Buffer.from(current.value).toString('utf8')).type)
        throw new CustosError('ERR_INVALID_REQUEST', 'the seal was migrated meanwhile');
      await tx.put(WRAPPED_ROOT_KEY_PATH, Buffer.from(JSON.stringify(wrapped)));
      await tx.put(
        RECOVERY_KEY_PATH,
        keyring.encrypt(BARRIER_KEY, rootKey.toString('base64'), {
          aad: { path: RECOVERY_KEY_PATH },
        }),
      );
      await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
    });
    this.#config = config;
  }

  /**
   * Opens the keys with the root key `source` yields (shares combined, or unwrapped); `migrate`
   * runs with the keys open, before the unseal hooks (a failure seals again).
   */
  async #openWith(
    source: () => Promise<Buffer>,
    migrate?: (rootKey: Buffer) => Promise<void>,
  ): Promise<void> {
    let rootKey: Buffer | undefined;
    try {
      rootKey = await source();
      const { keyring, revision } = openStoredKeyring(rootKey, await readKeyringEntry(this.#store));
      this.#rootKey = rootKey;
      this.#keyring = keyring;
      this.#keyringRevision = revision;
      await migrate?.(rootKey);
      for (const hook of this.#unsealHooks) await hook();
      this.#phase = 'unsealed';
    } catch (err) {
      await this.#closeKeys();
      rootKey?.fill(0);
      throw err;
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

/** Refuses share counts custos cannot split (1..255 shares, threshold ≥ 2 unless one share). */
export function validateShareCounts(shares: number, threshold: number): void {
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
