import { randomUUID } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { SHARE_LENGTH } from './root-key.js';

/**
 * Key shares collected towards a threshold for one operation (a rekey, its verification, a root
 * token generation), bound to the operation's nonce. Held in memory only, never stored; zeroed
 * when handed over or reset.
 *
 * @example
 * ```ts
 * const quorum = new ShareQuorum(3, 'rekey');
 * const shares = quorum.add(share, nonce); // undefined until the third distinct share
 * ```
 */
export class ShareQuorum {
  readonly nonce = randomUUID();
  #shares: Buffer[] = [];

  constructor(
    readonly required: number,
    private readonly operation: string,
  ) {}

  get progress(): number {
    return this.#shares.length;
  }

  /**
   * Adds one share given with `nonce`. Returns every share (and empties the quorum) once
   * `required` distinct ones are in; undefined before. A wrong nonce, a malformed share or a
   * share already given (same bytes or same share index) is refused and changes nothing.
   */
  add(share: Buffer, nonce: unknown): Buffer[] | undefined {
    if (typeof nonce !== 'string' || nonce !== this.nonce)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `incorrect nonce supplied; nonce for this ${this.operation} operation is ${this.nonce}`,
      );
    if (share.length !== SHARE_LENGTH)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `a key share is ${SHARE_LENGTH} bytes (hex or base64); this one is ${share.length}`,
      );
    const index = share[share.length - 1];
    if (this.#shares.some((s) => s.equals(share) || s[s.length - 1] === index))
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `given key has already been provided during this ${this.operation} operation`,
      );
    this.#shares.push(Buffer.from(share));
    if (this.#shares.length < this.required) return undefined;
    const shares = this.#shares;
    this.#shares = [];
    return shares;
  }

  /** Forgets (and zeroes) the shares given so far. */
  reset(): void {
    for (const s of this.#shares) s.fill(0);
    this.#shares = [];
  }
}
