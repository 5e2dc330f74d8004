import type { BarrierWriter } from '../barrier/barrier.js';
import { TOKENS } from '../storage/layout.js';
import type { Lifetime } from './token-lifetime.js';

/**
 * A token as stored (under the keyed hash of its value; the value itself is never stored).
 * The invariants of the token tree are in `NOTES.md`.
 */
export interface TokenEntry extends Lifetime {
  readonly accessor: string;
  readonly policies: string[];
  readonly displayName: string;
  readonly meta: Record<string, string>;
  /** Remaining uses; 0 = unlimited. (-1 in entries written before `revoking` existed.) */
  readonly numUses: number;
  /** Keyed hash of the parent token; '' for orphans. */
  readonly parentHash: string;
  /** The path that created it, e.g. `auth/token/create` or `auth/approle/login`. */
  readonly path: string;
  /** The keyed hash under which the entry is stored. */
  readonly hash: string;
  /** Set, first of all, when the token's revocation starts: it is dead from then on. */
  readonly revoking?: true;
  /** The explicit maximum TTL asked for (seconds, as capped); 0 when none was set. */
  readonly explicitMaxTtl?: number;
  /** `batch` for a batch token (never stored: its value carries the entry); absent = service. */
  readonly type?: 'batch';
  /** The token role it was created from, if any. */
  readonly role?: string;
  /** CIDR blocks the token may be used from (empty or absent: anywhere). */
  readonly boundCidrs?: readonly string[];
  /** The uuid of the auth mount whose login issued it (AppRole); absent for `auth/token/`. */
  readonly mount?: string;
  /**
   * Whom an orphan acts for when a token other than root made it (or orphaned it, by
   * `revoke-orphan`): the creator's person (see `TokenStore.personOf`), so that a token
   * without a parent to walk to is still its maker's, never the display name it chose.
   */
  readonly creator?: string;
}

/**
 * Where the token store keeps what, relative to its storage view (`TOKENS.prefix`, see
 * storage/layout.ts; `<hash>` is the token's keyed hash).
 *
 * @example
 * ```ts
 * await tokenStorage.read<TokenEntry>(TOKEN_PATHS.id + hash);
 * ```
 */
export const TOKEN_PATHS = {
  /** `id/<hash>`: the entry. */
  id: TOKENS.id,
  /** `accessor/<accessor>`: `{ hash }`. */
  accessor: TOKENS.accessor,
  /** `child/<parent hash>/<child hash>`: one link per child, listed to revoke a tree. */
  child: TOKENS.child,
  /** `due/<Unix seconds, 12 digits>/<hash>`: when the sweeper must revoke it (0 = now). */
  due: TOKENS.due,
} as const;

/** The link from a parent to one of its children. */
export const childLinkOf = (entry: TokenEntry): string =>
  `${TOKEN_PATHS.child}${entry.parentHash}/${entry.hash}`;

/** The sweeper's index entry for `entry` (none for tokens that never expire). */
export function dueKeyOf(entry: TokenEntry): string | undefined {
  if (entry.revoking) return `${TOKEN_PATHS.due}${'0'.padStart(12, '0')}/${entry.hash}`;
  if (entry.expireTime === 0) return undefined;
  return `${TOKEN_PATHS.due}${String(Math.ceil(entry.expireTime)).padStart(12, '0')}/${entry.hash}`;
}

/** Moves the sweeper's index entry of a token whose entry changes from `before` to `after`. */
export async function moveDue(tx: BarrierWriter, before: TokenEntry, after: TokenEntry) {
  const [from, to] = [dueKeyOf(before), dueKeyOf(after)];
  if (from === to) return;
  if (from !== undefined) await tx.remove(from);
  if (to !== undefined) await tx.write(to, {});
}

/** Whether `entry` itself may still be used at `at` (its ancestors are checked apart). */
export const isLive = (entry: TokenEntry, at: number): boolean =>
  entry.revoking !== true &&
  entry.numUses >= 0 &&
  (entry.expireTime === 0 || entry.expireTime > at);
