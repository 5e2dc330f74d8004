import { randomUUID } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import type { TokenStore } from '../auth/token-store.js';
import type { EntryStore } from '../storage/entry-store.js';
import { CORE } from '../storage/layout.js';
import { notHeldHere, operationAttempts, type StoredAttempt } from './operation-attempt.js';
import { encodeRootToken, generateOtp, ROOT_TOKEN_OTP_LENGTH } from './root-token-otp.js';
import type { SealManager } from './seal-manager.js';
import { ShareQuorum } from './share-quorum.js';

/** What the `sys/generate-root` routes answer (Vault's shape). */
export interface GenerateRootStatus {
  readonly started: boolean;
  readonly nonce: string;
  readonly progress: number;
  readonly required: number;
  readonly encoded_token: string;
  readonly encoded_root_token: string;
  readonly pgp_fingerprint: string;
  /** The OTP, only in the answer to the start that generated it. */
  readonly otp: string;
  readonly otp_length: number;
  readonly complete: boolean;
}

const CANCEL_PATH = 'sys/generate-root/attempt';

/**
 * Root token generation, Vault's OTP flow: a start gives (or takes) a base62 one-time password
 * as long as a token; a threshold of the key shares, each sent with the attempt's nonce,
 * authorises a new root token, returned XOR the OTP in base64 (decode it with the OTP: `custos
 * operator generate-root -decode`). One attempt at a time across servers (recorded in storage);
 * the shares and the OTP stay in the memory of the server that started it.
 *
 * @example
 * ```ts
 * const { nonce, otp } = await generateRoot.init(undefined);
 * for (const key of keys) status = await generateRoot.update(key, nonce);
 * decodeRootToken(status.encoded_token, otp);
 * ```
 */
export class GenerateRoot {
  readonly #seal: SealManager;
  readonly #tokens: Pick<TokenStore, 'create'>;
  readonly #attempts;
  readonly #owner = randomUUID();
  #progress: { otp: string; quorum: ShareQuorum } | undefined;

  constructor(seal: SealManager, store: EntryStore, tokens: Pick<TokenStore, 'create'>) {
    this.#seal = seal;
    this.#tokens = tokens;
    this.#attempts = operationAttempts<StoredAttempt>(
      store,
      CORE.prefix + CORE.generateRootAttempt,
      'root generation',
    );
  }

  async status(): Promise<GenerateRootStatus> {
    const stored = await this.#attempts.read();
    const local = this.#progress?.quorum.nonce === stored?.nonce ? this.#progress : undefined;
    return this.#answer({
      started: stored !== undefined,
      nonce: stored?.nonce ?? '',
      progress: local?.quorum.progress ?? 0,
    });
  }

  /**
   * Starts a generation with `otp` (base62, `otp_length` characters) or, without one, a
   * generated OTP that only this answer carries.
   */
  async init(otp: string | undefined): Promise<GenerateRootStatus> {
    if (otp !== undefined && (otp.length !== ROOT_TOKEN_OTP_LENGTH || !/^[A-Za-z0-9]+$/.test(otp)))
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `OTP string is wrong length (an OTP is ${ROOT_TOKEN_OTP_LENGTH} letters and digits)`,
      );
    const generated = otp === undefined;
    const quorum = new ShareQuorum(this.#seal.shareCounts().threshold, 'root generation');
    await this.#attempts.start({ nonce: quorum.nonce, owner: this.#owner });
    this.#forget();
    this.#progress = { otp: otp ?? generateOtp(), quorum };
    const status = await this.status();
    return generated ? { ...status, otp: this.#progress.otp } : status;
  }

  async cancel(): Promise<void> {
    await this.#attempts.remove();
    this.#forget();
  }

  /**
   * Adds one key share. At the threshold the shares must reproduce the root key; a root token
   * is then created and returned encoded with the OTP, and the attempt ends.
   */
  async update(share: Buffer, nonce: unknown): Promise<GenerateRootStatus> {
    const stored = await this.#attempts.read();
    if (stored === undefined) {
      this.#forget();
      throw new CustosError('ERR_INVALID_REQUEST', 'no root generation in progress');
    }
    const local = this.#progress;
    if (local === undefined || local.quorum.nonce !== stored.nonce || stored.owner !== this.#owner)
      throw notHeldHere('root generation', CANCEL_PATH);
    const shares = local.quorum.add(share, nonce);
    if (shares === undefined) return this.status();
    await this.#seal.authorize(shares);
    const { token } = await this.#tokens.create({
      policies: ['root'],
      displayName: 'root',
      path: 'auth/token/root',
    });
    const encoded = encodeRootToken(token, local.otp);
    await this.#attempts.remove();
    this.#forget();
    return this.#answer({
      started: true,
      nonce: stored.nonce,
      progress: local.quorum.required,
      complete: true,
      encoded,
    });
  }

  /** Drops this server's progress (after a seal). */
  forget(): void {
    this.#forget();
  }

  #answer(state: {
    started: boolean;
    nonce: string;
    progress: number;
    complete?: boolean;
    encoded?: string;
  }): GenerateRootStatus {
    return {
      started: state.started,
      nonce: state.nonce,
      progress: state.progress,
      required: this.#seal.shareCounts().threshold,
      encoded_token: state.encoded ?? '',
      encoded_root_token: state.encoded ?? '',
      pgp_fingerprint: '',
      otp: '',
      otp_length: ROOT_TOKEN_OTP_LENGTH,
      complete: state.complete ?? false,
    };
  }

  #forget(): void {
    this.#progress?.quorum.reset();
    this.#progress = undefined;
  }
}
