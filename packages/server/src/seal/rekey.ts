import { randomUUID, timingSafeEqual } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';
import type { EntryStore } from '../storage/entry-store.js';
import { CORE } from '../storage/layout.js';
import { notHeldHere, operationAttempts, type StoredAttempt } from './operation-attempt.js';
import { combineRootKey, createRootKey } from './root-key.js';
import type { SealManager } from './seal-manager.js';
import { validateShareCounts } from './seal-manager.js';
import { ShareQuorum } from './share-quorum.js';

/** The rekey in progress, as stored (no secret). */
interface RekeyAttempt extends StoredAttempt {
  readonly secret_shares: number;
  readonly secret_threshold: number;
  readonly require_verification: boolean;
}

/** What `sys/rekey/init` and an unfinished `sys/rekey/update` answer (Vault's shape). */
export interface RekeyStatus {
  readonly nonce: string;
  readonly started: boolean;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
  readonly required: number;
  readonly pgp_fingerprints: null;
  readonly backup: false;
  readonly verification_required: boolean;
}

/** The answer of the `sys/rekey/update` that completes the authorisation: the new key shares. */
export interface RekeyResult {
  readonly complete: true;
  readonly nonce: string;
  readonly keys: string[];
  readonly keys_base64: string[];
  readonly pgp_fingerprints: null;
  readonly backup: false;
  readonly verification_required: boolean;
  readonly verification_nonce?: string;
}

/** What `sys/rekey/verify` answers while a verification is pending. */
export interface RekeyVerifyStatus {
  readonly nonce: string;
  readonly started: boolean;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
}

/**
 * What a rekey replaces: `barrier` (Vault's default target) the root key and its unseal shares;
 * `recovery` (`sys/rekey-recovery-key`, `-target=recovery`) the recovery key of an auto-unseal
 * seal and its recovery shares.
 */
export type RekeyTarget = 'barrier' | 'recovery';

const TARGETS = {
  barrier: { path: 'sys/rekey', name: 'rekey', attempt: CORE.rekeyAttempt },
  recovery: {
    path: 'sys/rekey-recovery-key',
    name: 'recovery key rekey',
    attempt: CORE.rekeyRecoveryAttempt,
  },
} as const;

/**
 * Rekey (see `NOTES.md`): a threshold of the current key shares authorises a new root key (with
 * target `recovery`: a new recovery key, under an auto-unseal seal), split into new shares (`secret_shares`, `secret_threshold`); the stored barrier keyring is
 * re-encrypted under it (data is not), so the old shares stop working. With
 * `require_verification` the new root key is installed only once a threshold of the new shares
 * is given back to `sys/rekey/verify`. One rekey at a time across servers (recorded in
 * storage); the shares stay in the memory of the server that started it.
 *
 * @example
 * ```ts
 * const rekey = new Rekey(seal, store);
 * const { nonce } = await rekey.init({ shares: 5, threshold: 3, requireVerification: false });
 * for (const key of oldKeys) result = await rekey.update(key, nonce);
 * ```
 */
export class Rekey {
  readonly #seal: SealManager;
  readonly #attempts;
  readonly #owner = randomUUID();
  readonly #target: RekeyTarget;
  #progress: { attempt: RekeyAttempt; quorum: ShareQuorum } | undefined;
  #verification: { rootKey: Buffer; quorum: ShareQuorum; attempt: RekeyAttempt } | undefined;

  constructor(seal: SealManager, store: EntryStore, target: RekeyTarget = 'barrier') {
    this.#seal = seal;
    this.#target = target;
    this.#attempts = operationAttempts<RekeyAttempt>(
      store,
      CORE.prefix + TARGETS[target].attempt,
      TARGETS[target].name,
    );
  }

  /** The route prefix of this rekey (`sys/rekey` or `sys/rekey-recovery-key`). */
  get path(): string {
    return TARGETS[this.#target].path;
  }

  async status(): Promise<RekeyStatus> {
    const { threshold } = this.#seal.shareCounts();
    const stored = await this.#attempts.read();
    if (stored === undefined)
      return {
        nonce: '',
        started: false,
        t: 0,
        n: 0,
        progress: 0,
        required: threshold,
        pgp_fingerprints: null,
        backup: false,
        verification_required: false,
      };
    const local = this.#progress?.attempt.nonce === stored.nonce ? this.#progress : undefined;
    return {
      nonce: stored.nonce,
      started: true,
      t: stored.secret_threshold,
      n: stored.secret_shares,
      progress: local?.quorum.progress ?? 0,
      required: threshold,
      pgp_fingerprints: null,
      backup: false,
      verification_required: stored.require_verification,
    };
  }

  /** Starts a rekey; refused while another is in progress (on any server). */
  async init(options: {
    shares: number;
    threshold: number;
    requireVerification: boolean;
  }): Promise<RekeyStatus> {
    if (this.#target === 'barrier') this.#seal.requireShamir('rekey');
    else this.#seal.requireRecoverySeal('a recovery key rekey');
    validateShareCounts(options.shares, options.threshold);
    const quorum = new ShareQuorum(this.#seal.shareCounts().threshold, TARGETS[this.#target].name);
    const attempt: RekeyAttempt = {
      nonce: quorum.nonce,
      owner: this.#owner,
      secret_shares: options.shares,
      secret_threshold: options.threshold,
      require_verification: options.requireVerification,
    };
    await this.#attempts.start(attempt);
    this.#forget();
    this.#progress = { attempt, quorum };
    return this.status();
  }

  /** Cancels the rekey in progress, whichever server started it (its progress is dropped). */
  async cancel(): Promise<void> {
    await this.#attempts.remove();
    this.#forget();
  }

  /**
   * Adds one current key share. At the threshold: the shares must reproduce the root key; the
   * new key shares are returned, and (without verification) the new root key is installed.
   */
  async update(share: Buffer, nonce: unknown): Promise<RekeyStatus | RekeyResult> {
    const local = await this.#held();
    if (this.#verification !== undefined)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        'the new keys were given out and await verification: send them to sys/rekey/verify',
      );
    const shares = local.quorum.add(share, nonce);
    if (shares === undefined) return this.status();
    await this.#seal.authorize(shares);
    const { attempt } = local;
    const { rootKey, keyShares } = await createRootKey(
      attempt.secret_shares,
      attempt.secret_threshold,
    );
    try {
      const result = {
        complete: true as const,
        nonce: attempt.nonce,
        keys: keyShares.map((k) => k.toString('hex')),
        keys_base64: keyShares.map((k) => k.toString('base64')),
        pgp_fingerprints: null,
        backup: false as const,
        verification_required: attempt.require_verification,
      };
      if (attempt.require_verification) {
        const quorum = new ShareQuorum(
          attempt.secret_threshold,
          `${TARGETS[this.#target].name} verification`,
        );
        this.#verification = { rootKey: Buffer.from(rootKey), quorum, attempt };
        return { ...result, verification_nonce: quorum.nonce };
      }
      await this.#install(rootKey, attempt);
      return result;
    } finally {
      rootKey.fill(0);
      for (const k of keyShares) k.fill(0);
    }
  }

  verifyStatus(): RekeyVerifyStatus {
    const v = this.#verification;
    return {
      nonce: v?.quorum.nonce ?? '',
      started: v !== undefined,
      t: v?.attempt.secret_threshold ?? 0,
      n: v?.attempt.secret_shares ?? 0,
      progress: v?.quorum.progress ?? 0,
    };
  }

  /**
   * Adds one new key share. At the new threshold, the shares must reproduce the new root key,
   * which is then installed.
   */
  async verify(
    share: Buffer,
    nonce: unknown,
  ): Promise<RekeyVerifyStatus | { nonce: string; complete: true }> {
    await this.#held();
    const v = this.#verification;
    if (v === undefined)
      throw new CustosError('ERR_INVALID_REQUEST', 'no rekey verification in progress');
    const shares = v.quorum.add(share, nonce);
    if (shares === undefined) return this.verifyStatus();
    const combined = await combineRootKey(shares, v.attempt.secret_threshold).catch(
      () => undefined,
    );
    for (const s of shares) s.fill(0);
    try {
      if (combined === undefined || !timingSafeEqual(combined, v.rootKey))
        throw new ServerError(
          'ERR_UNSEAL_FAILED',
          'the keys given do not reproduce the new root key; verification progress was reset',
        );
    } finally {
      combined?.fill(0);
    }
    const nonceDone = v.quorum.nonce;
    await this.#install(v.rootKey, v.attempt);
    return { nonce: nonceDone, complete: true };
  }

  /** Restarts the verification (new nonce, no progress); the new keys stay the same. */
  async cancelVerification(): Promise<void> {
    await this.#held();
    const v = this.#verification;
    if (v === undefined) return;
    v.quorum.reset();
    this.#verification = {
      ...v,
      quorum: new ShareQuorum(v.quorum.required, `${TARGETS[this.#target].name} verification`),
    };
  }

  /** Drops this server's progress (after a seal: the keys it would check are gone). */
  forget(): void {
    this.#forget();
  }

  /** This server's progress for the stored rekey; refused when there is none or it is not ours. */
  async #held() {
    const stored = await this.#attempts.read();
    if (stored === undefined) {
      this.#forget();
      throw new CustosError('ERR_INVALID_REQUEST', `no ${TARGETS[this.#target].name} in progress`);
    }
    const local = this.#progress;
    if (local === undefined || local.attempt.nonce !== stored.nonce || stored.owner !== this.#owner)
      throw notHeldHere(TARGETS[this.#target].name, `${this.path}/init`);
    return local;
  }

  async #install(rootKey: Buffer, attempt: RekeyAttempt): Promise<void> {
    if (this.#target === 'barrier')
      await this.#seal.replaceRootKey(rootKey, attempt.secret_shares, attempt.secret_threshold);
    else
      await this.#seal.replaceRecoveryKey(rootKey, attempt.secret_shares, attempt.secret_threshold);
    await this.#attempts.remove();
    this.#forget();
  }

  #forget(): void {
    this.#progress?.quorum.reset();
    this.#progress = undefined;
    if (this.#verification !== undefined) {
      this.#verification.quorum.reset();
      this.#verification.rootKey.fill(0);
      this.#verification = undefined;
    }
  }
}
