import { createSecretKey, type KeyObject } from 'node:crypto';
import { generateSecret, hmacSha256 } from '@custos/core/crypto';
import { CustosError, PermissionDenied } from '@custos/core/errors';
import { type Barrier, type BarrierWriter, retryOnConflict } from '../barrier/barrier.js';
import { barrierView, isViewKey } from '../barrier/barrier-view.js';
import { isServerError } from '../errors.js';
import { cidrList } from '../http/client-address.js';
import { createPeriodicTask } from '../lib/periodic-task.js';
import type { CacheCounter } from '../metrics/cache-counter.js';
import {
  BATCH_TOKEN_PREFIX,
  MAX_BATCH_TOKEN_LENGTH,
  openBatchToken,
  sealBatchToken,
} from './batch-token.js';
import {
  childLinkOf,
  dueKeyOf,
  isLive,
  moveDue,
  TOKEN_PATHS,
  type TokenEntry,
} from './token-entry.js';
import { initialLifetime, MAX_TOKEN_TTL_SECONDS, renewedExpiry } from './token-lifetime.js';

export type { TokenEntry } from './token-entry.js';
export {
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  remainingTtl,
} from './token-lifetime.js';

import { createFeedCache } from '../storage/feed-cache.js';
import { CORE, TOKENS } from '../storage/layout.js';

/** Parameters for a new token. */
export interface CreateTokenInput {
  readonly policies: readonly string[];
  readonly ttlSeconds?: number;
  readonly explicitMaxTtlSeconds?: number;
  readonly renewable?: boolean;
  /** A periodic token's period (seconds); see `Lifetime.period`. */
  readonly periodSeconds?: number;
  /** `batch` for a batch token (not stored, not renewable); service otherwise. */
  readonly type?: 'service' | 'batch';
  /** The token role it is created from. */
  readonly role?: string;
  /** CIDR blocks the token may be used from. */
  readonly boundCidrs?: readonly string[];
  readonly numUses?: number;
  readonly displayName?: string;
  readonly meta?: Record<string, string>;
  /** The entry of the token that creates this one (as admitted). */
  readonly parent?: TokenEntry;
  readonly orphan?: boolean;
  readonly path: string;
  /** The uuid of the auth mount whose login issues it (revoked with the mount). */
  readonly mount?: string;
  /** A caller-chosen token value (root tokens in dev mode only). */
  readonly id?: string;
}

/** The person of a token tree that names nobody (a token created without `display_name`). */
export const ANONYMOUS_PERSON = 'token';

/** What `auth/token/tidy` did. */
export interface TidyResult {
  /** Expired token trees revoked. */
  readonly revoked: number;
  /** Accessor entries removed whose token was gone. */
  readonly accessors: number;
  /** Child links removed whose child was gone, or whose dead child was revoked. */
  readonly links: number;
}

/** A token value and its entry. The value is returned once and never stored. */
export interface IssuedToken {
  readonly token: string;
  readonly entry: TokenEntry;
}

/** Options of the token store. */
export interface TokenStoreOptions {
  /** How often the sweeper looks for expired tokens (default one minute). */
  readonly sweepIntervalMs?: number;
  /** Told when a sweep fails (the next one tries again). */
  readonly onSweepError?: (error: unknown) => void;
  /** Counts the lookups of the token entry cache (metrics). */
  readonly cacheCounter?: CacheCounter;
  /**
   * Whether the auth mount with this uuid is still enabled: a batch token a login issued dies
   * with its mount (service tokens are revoked by `revokeIssuedBy`). Without it, such a batch
   * token is refused.
   */
  readonly authMountLive?: (uuid: string) => Promise<boolean>;
}

const HMAC_KEY_PATH = CORE.tokenHmacKey;
const { id: ID, accessor: ACCESSOR, child: CHILD, due: DUE } = TOKEN_PATHS;
export const TOKEN_PREFIX = 'cst.';

const USE_LIMITED_PARENT = 'use-limited tokens cannot create child tokens';
/** Vault: a batch token cannot create tokens (nor be renewed, nor revoked but with its parent). */
const BATCH_PARENT = 'batch tokens cannot create tokens';
const BATCH_REVOKE = 'batch tokens cannot be revoked; they expire, or go with their parent';
const BATCH_RENEW = 'batch tokens cannot be renewed';
const BATCH_ID = 'batch tokens cannot have a chosen id';
const BATCH_USES = 'batch tokens cannot be use-limited (num_uses)';
const BATCH_PERIODIC = 'batch tokens cannot be periodic';
const BATCH_ROOT = 'batch tokens cannot have the root policy';
const BATCH_TOO_LONG = `a batch token carries its policies and metadata, and these would make it longer than ${MAX_BATCH_TOKEN_LENGTH} characters`;

/** The lifetime a creation asks for. */
const lifetimeRequest = (input: CreateTokenInput) => ({
  ttlSeconds: input.ttlSeconds,
  explicitMaxTtlSeconds: input.explicitMaxTtlSeconds,
  renewable: input.renewable,
  periodSeconds: input.periodSeconds,
  isRoot: input.policies.includes('root'),
});

/** The entry fields a creation sets beside its lifetime. */
const extras = (input: CreateTokenInput) => ({
  explicitMaxTtl: Math.min(input.explicitMaxTtlSeconds ?? 0, MAX_TOKEN_TTL_SECONDS),
  ...(input.role === undefined ? {} : { role: input.role }),
  ...(input.mount === undefined ? {} : { mount: input.mount }),
  ...(input.boundCidrs === undefined || input.boundCidrs.length === 0
    ? {}
    : { boundCidrs: [...input.boundCidrs] }),
});
/** Vault's refusal of a chosen token id that a token already has. */
const DUPLICATE_ID = 'cannot create a token with a duplicate ID';
/**
 * What a chosen id may be: what a request header carries unchanged. Node trims spaces and tabs at
 * a header value's ends, refuses control characters and reads other bytes as Latin-1, so any
 * other id would be stored unusable with the policies given (or, with a space at an end, would be
 * presented as the token without it).
 */
const CHOSEN_ID = /^[\x21-\x7e]{1,256}$/;
const UNUSABLE_ID =
  'a chosen token id must be 1 to 256 visible ASCII characters (no spaces or control characters: a request header could not carry it unchanged)';
/**
 * Prefixes a chosen id may not start with (Vault refuses its own `s.` alike): the generated
 * tokens' (a chosen id is never mistaken for one), and the batch tokens' (such a value is read as
 * a batch token: a service token stored under it could never be presented).
 */
const RESERVED_ID_PREFIXES = [TOKEN_PREFIX, BATCH_TOKEN_PREFIX];
/** How many child subtrees of one token are revoked at once. */
const REVOKE_PARALLELISM = 4;

/** Whether `value` can be a token or an accessor at all (anything else is unknown). */
const plausible = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 256;
const isBatchToken = (value: string): boolean => value.startsWith(BATCH_TOKEN_PREFIX);

/**
 * The token store's view of storage (`TOKENS.prefix`): the keys of `TOKEN_PATHS`, `childLinkOf`
 * and `dueKeyOf` are relative to it.
 *
 * @example
 * ```ts
 * await tokenStorage(barrier).transaction((tx) => moveDue(tx, before, after));
 * ```
 */
export const tokenStorage = (barrier: Barrier): Barrier => barrierView(barrier, TOKENS.prefix);

/**
 * Tokens: issuing, looking up, authenticating, renewing and revoking them (with their trees),
 * and sweeping expired ones. Tokens are stored by keyed hash only.
 *
 * @example
 * ```ts
 * const { token } = await tokens.create({ policies: ['app'], ttlSeconds: 3600, path: 'auth/token/create' });
 * const entry = await tokens.authenticate(token);
 * ```
 */
export interface TokenStore {
  /** The store's clock (Unix seconds), for responses that report remaining time. */
  readonly now: () => number;
  /**
   * Issues a token. A child is created only if its parent is still live and not use-limited,
   * checked in the transaction that links the child, with the parent's row locked against
   * revocation until it commits (see `NOTES.md`).
   */
  create(input: CreateTokenInput): Promise<IssuedToken>;
  /** The live entry for `token`, or undefined (unknown, expired, revoked, or dead ancestor). */
  lookup(token: string): Promise<TokenEntry | undefined>;
  /**
   * Resolves the token of a request and spends one use of a limited-use token; the last use
   * revokes it. Throws `PermissionDenied` for anything but a live token, and for a token bound
   * to CIDR blocks that `clientAddress` is outside of (checked before a use is spent).
   */
  authenticate(token: string | undefined, clientAddress?: string): Promise<TokenEntry>;
  /**
   * Extends a renewable token's TTL by `incrementSeconds` (default: its creation TTL), never
   * past its maximum nor its parent's current expiry.
   */
  renew(entry: TokenEntry, incrementSeconds?: number): Promise<TokenEntry>;
  /** Revokes a token and, unless they are orphans, all tokens created from it. */
  revoke(entry: TokenEntry): Promise<void>;
  /** Revokes the token with this value and its tree, live or not (no-op when unknown). */
  revokeToken(token: string): Promise<void>;
  /** Revokes the token with this accessor and its tree, live or not (no-op when unknown). */
  revokeAccessor(accessor: string): Promise<void>;
  /**
   * Revokes the token with this value but not its children: each becomes an orphan (no-op when
   * unknown). The token is marked first, so no child is created from it meanwhile.
   */
  revokeOrphan(token: string): Promise<void>;
  /**
   * Revokes every stored token the auth mount with uuid `mount` issued (with their trees), live
   * or not; returns how many. Scans every token entry.
   */
  revokeIssuedBy(mount: string): Promise<number>;
  /**
   * Sweeps expired tokens, then removes what no token holds any more: accessor entries of a
   * token that is gone, child links whose child is gone (a child whose parent is gone is
   * revoked). Safe to run while tokens are created and revoked.
   */
  tidy(): Promise<TidyResult>;
  /** Finds a live token entry by accessor. */
  byAccessor(accessor: string): Promise<TokenEntry | undefined>;
  /**
   * Whom `entry` acts for: the ancestor-or-self just below a root token (or at the top of the
   * tree: an orphan, a login's token), or undefined when an ancestor is gone or no longer
   * live. A child token acts for whoever made it: rules about "who" (two-person approval)
   * judge this token, never the child's own display name.
   */
  rootOf(entry: TokenEntry): Promise<TokenEntry | undefined>;
  /**
   * Whom `entry` acts for, as a name: the `creator` recorded on the top of its tree (an orphan
   * a token other than root made), else that top's display name; {@link ANONYMOUS_PERSON} when
   * the tree cannot be walked. Undefined for a root token (root hands out people's tokens).
   */
  personOf(entry: TokenEntry): Promise<string | undefined>;
  /** The accessor of every stored (service) token, sorted. */
  listAccessors(): Promise<string[]>;
  /**
   * Revokes every token whose expiry has passed (with its tree), and finishes revocations
   * that were interrupted. Returns how many trees it revoked: tokens expiring together count
   * once, by the highest of them (a child revoked before its expired parent is in that tree).
   */
  sweep(): Promise<number>;
  /** Sweeps every `sweepIntervalMs` until `stopSweeping` (run while unsealed). */
  startSweeping(): void;
  stopSweeping(): void;
  /** The key tokens (and AppRole IDs) are hashed with. */
  hmacKey(): Promise<KeyObject>;
  /** Forgets the HMAC key and cached entries (after a seal). */
  clear(): void;
}

/**
 * Issues, looks up, renews and revokes tokens. Only HMAC-SHA256(key, token) reaches storage
 * (the key lives behind the barrier); lookups recompute it, so a database dump reveals no token.
 * A token is usable only while it and every ancestor are live; see `NOTES.md` for how creation
 * and revocation exclude each other, on one node or several.
 *
 * @example
 * ```ts
 * const tokens = createTokenStore(barrier);
 * const { token } = await tokens.create({ policies: ['app'], ttlSeconds: 3600, path: 'auth/token/create' });
 * const entry = await tokens.lookup(token);
 * ```
 */
export function createTokenStore(
  barrier: Barrier,
  now: () => number = () => Date.now() / 1000,
  options: TokenStoreOptions = {},
): TokenStore {
  // The token area of storage, and the one core entry the store owns (its HMAC key).
  const storage = tokenStorage(barrier);
  const core = barrierView(barrier, CORE.prefix);
  const keys = new Map<string, KeyObject>();

  /** A 256-bit key kept behind the barrier at `path` (made by the first node that needs it). */
  const coreKey = async (path: string): Promise<KeyObject> => {
    const known = keys.get(path);
    if (known !== undefined) return known;
    let stored = await core.read<{ key: string }>(path);
    if (stored === undefined) {
      const fresh = generateSecret({ encoding: 'base64', bytes: 32 }).secret.reveal();
      try {
        await core.create(path, { key: fresh });
      } catch {
        // Another node created it first: use theirs.
      }
      stored = await core.read<{ key: string }>(path);
      if (stored === undefined) throw new Error(`the key at ${path} could not be stored`);
    }
    const found = createSecretKey(Buffer.from(stored.data.key, 'base64'));
    keys.set(path, found);
    return found;
  };
  const key = () => coreKey(HMAC_KEY_PATH);
  const batchKey = () => coreKey(CORE.batchTokenKey);

  const hashOf = async (token: string): Promise<string> =>
    hmacSha256(await key(), token).toString('hex');

  // Parsed entries, kept until the storage's change feed reports a write of them (on any
  // node): a revocation, renewal or spent use is seen at the next use. Read on every use while
  // the feed is not live.
  const cache = createFeedCache<{ entry: TokenEntry; revision: number }>(storage.changes, {
    prefix: ID,
    limit: 10_000,
  });

  const fetchEntry = async (hash: string) => {
    const hit = cache.get(hash);
    if (hit !== undefined) {
      options.cacheCounter?.hit();
      return hit;
    }
    options.cacheCounter?.miss();
    const stamp = cache.stamp();
    const stored = await storage.read<TokenEntry>(ID + hash);
    if (stored === undefined) return undefined;
    const fresh = { entry: stored.data, revision: stored.revision };
    cache.fill(hash, fresh, stamp);
    return fresh;
  };

  /** See `TokenStore.rootOf`. */
  const rootOf = async (entry: TokenEntry): Promise<TokenEntry | undefined> => {
    const at = now();
    const walked = new Set<string>();
    let top = entry;
    while (top.parentHash !== '') {
      // No creation makes a cycle of parents; one planted in storage is refused, not walked.
      if (walked.has(top.parentHash)) return undefined;
      walked.add(top.parentHash);
      const ancestor = await fetchEntry(top.parentHash);
      if (ancestor === undefined || !isLive(ancestor.entry, at)) return undefined;
      // Tokens a root token made are people's own: root hands them out.
      if (ancestor.entry.policies.includes('root')) break;
      top = ancestor.entry;
    }
    return top;
  };

  /** See `TokenStore.personOf`. */
  const personOf = async (entry: TokenEntry): Promise<string | undefined> => {
    if (entry.policies.includes('root')) return undefined;
    const top = await rootOf(entry);
    return top === undefined ? ANONYMOUS_PERSON : (top.creator ?? top.displayName);
  };

  /** The `creator` of an orphan `input` asks for: its maker's person, unless root made it. */
  const creatorOf = async (input: CreateTokenInput) => {
    if (input.orphan !== true || input.parent === undefined) return {};
    const person = await personOf(input.parent);
    return person === undefined ? {} : { creator: person };
  };

  /** Whether every ancestor of `entry` is live: revoking a parent kills its tree at once. */
  const ancestorsLive = async (entry: TokenEntry, at: number): Promise<boolean> => {
    for (let hash = entry.parentHash; hash !== ''; ) {
      const ancestor = await fetchEntry(hash);
      if (ancestor === undefined || !isLive(ancestor.entry, at)) return false;
      hash = ancestor.entry.parentHash;
    }
    return true;
  };

  /** Marks the stored entry revoked (the first step of every revocation) inside `tx`. */
  const markInTx = async (tx: BarrierWriter, entry: TokenEntry, revision: number) => {
    const marked: TokenEntry = { ...entry, revoking: true };
    await tx.replace(ID + entry.hash, marked, revision);
    await moveDue(tx, entry, marked);
    return marked;
  };

  /** Marks `hash` revoked unless it already is; undefined when it is gone. */
  const mark = (hash: string): Promise<TokenEntry | undefined> =>
    retryOnConflict(() =>
      storage.transaction(async (tx) => {
        const stored = await tx.read<TokenEntry>(ID + hash);
        if (stored === undefined) return undefined;
        if (stored.data.revoking) return stored.data;
        return markInTx(tx, stored.data, stored.revision);
      }),
    );

  /**
   * Revokes a token and its tree: mark it (no child can be created from then on, see `create`),
   * then revoke the children, then remove it. Safe to repeat and to run on several nodes at once;
   * an interrupted revocation leaves a marked entry that the sweeper finishes.
   */
  const revokeTree = async (hash: string): Promise<boolean> => {
    const marked = await mark(hash);
    if (marked === undefined) return false;
    const links = await storage.listPaths(`${CHILD}${hash}/`);
    // Sibling subtrees are independent: a few at a time keeps large trees quick.
    for (let i = 0; i < links.length; i += REVOKE_PARALLELISM) {
      await Promise.all(
        links.slice(i, i + REVOKE_PARALLELISM).map(async (path) => {
          // A link whose child is already gone is removed here; the others go with their child.
          if (!(await revokeTree(path.slice(path.lastIndexOf('/') + 1))))
            await storage.remove(path);
        }),
      );
    }
    // The token's cubbyhole goes with it (in the same transaction as its entry).
    const cubbyhole = await storage.listPaths(`${TOKENS.cubbyhole}${hash}/`);
    await storage.transaction(async (tx) => {
      for (const path of cubbyhole) await tx.remove(path);
      await tx.remove(ID + hash);
      await tx.remove(ACCESSOR + marked.accessor);
      if (marked.parentHash !== '') await tx.remove(childLinkOf(marked));
      const due = dueKeyOf(marked);
      if (due !== undefined) await tx.remove(due);
    });
    return true;
  };

  /** The entry stored under `hash` if it and every ancestor are live, or undefined. */
  const readHash = async (hash: string) => {
    const stored = await fetchEntry(hash);
    if (stored === undefined) return undefined;
    const at = now();
    if (!isLive(stored.entry, at)) {
      // Expired and not yet swept: revoke it now rather than wait for the sweeper.
      if (!stored.entry.revoking) await revokeTree(hash);
      return undefined;
    }
    return (await ancestorsLive(stored.entry, at)) ? stored : undefined;
  };

  /** A batch token's entry if it opens under the batch key, is live and its ancestors are. */
  const readBatch = async (token: string) => {
    if (token.length > MAX_BATCH_TOKEN_LENGTH) return undefined;
    const entry = openBatchToken(await batchKey(), token, await hashOf(token));
    if (entry === undefined) return undefined;
    const at = now();
    if (!isLive(entry, at) || !(await ancestorsLive(entry, at))) return undefined;
    // Nothing is stored to revoke when its auth mount is disabled: the mount is asked instead
    // (and a store not told how to ask refuses it: fail closed).
    if (entry.mount !== undefined && !(await options.authMountLive?.(entry.mount)))
      return undefined;
    return { entry, revision: 0 };
  };

  const read = async (token: string) => {
    if (typeof token === 'string' && isBatchToken(token)) return readBatch(token);
    return plausible(token) ? readHash(await hashOf(token)) : undefined;
  };

  const accessorHash = async (accessor: string) => {
    // An accessor no storage key can hold was never issued: absent, as any unknown one.
    if (!plausible(accessor) || !isViewKey(ACCESSOR + accessor)) return undefined;
    return (await storage.read<{ hash: string }>(ACCESSOR + accessor))?.data.hash;
  };

  /**
   * A batch token: nothing is stored; its value carries its entry, sealed under the batch key.
   * Its parent is checked live now and on every use (it is never linked: revoking the parent
   * kills it through that check).
   */
  const createBatch = async (input: CreateTokenInput): Promise<IssuedToken> => {
    if (input.id !== undefined) throw new CustosError('ERR_INVALID_REQUEST', BATCH_ID);
    if ((input.numUses ?? 0) !== 0) throw new CustosError('ERR_INVALID_REQUEST', BATCH_USES);
    if ((input.periodSeconds ?? 0) > 0)
      throw new CustosError('ERR_INVALID_REQUEST', BATCH_PERIODIC);
    if (input.policies.includes('root')) throw new CustosError('ERR_INVALID_REQUEST', BATCH_ROOT);
    let parent: TokenEntry | undefined;
    if (input.parent !== undefined) {
      // The creator is re-checked under the lock that revocation waits for (as in `create`),
      // and with its ancestors, orphans' creators included.
      const creator = input.parent;
      const live = await storage.transaction(async (tx) => {
        const stored = await tx.readLocked<TokenEntry>(ID + creator.hash);
        return stored !== undefined && isLive(stored.data, now()) ? stored.data : undefined;
      });
      if (live === undefined || !(await ancestorsLive(live, now()))) throw new PermissionDenied();
      if (input.orphan !== true) parent = live;
    }
    const { creator } = await creatorOf(input);
    const at = now();
    const lifetime = initialLifetime(
      { ...lifetimeRequest(input), renewable: false, periodSeconds: 0 },
      at,
      parent,
    );
    const token = sealBatchToken(await batchKey(), {
      policies: [...new Set(input.policies)].sort(),
      creationTime: lifetime.creationTime,
      expireTime: lifetime.expireTime,
      creationTtl: lifetime.creationTtl,
      explicitMaxTtl: extras(input).explicitMaxTtl,
      parentHash: parent?.hash ?? '',
      displayName: input.displayName ?? 'token',
      meta: input.meta ?? {},
      path: input.path,
      ...(input.role === undefined ? {} : { role: input.role }),
      ...(input.boundCidrs === undefined ? {} : { boundCidrs: input.boundCidrs }),
      ...(creator === undefined ? {} : { creator }),
      ...(input.mount === undefined ? {} : { mount: input.mount }),
    });
    if (token.length > MAX_BATCH_TOKEN_LENGTH)
      throw new CustosError('ERR_INVALID_REQUEST', BATCH_TOO_LONG);
    const entry = openBatchToken(await batchKey(), token, await hashOf(token));
    if (entry === undefined) throw new Error('a batch token just sealed did not open');
    return { token, entry };
  };

  /** The hashes of `entry`'s ancestors, nearest first, as far as their entries are stored. */
  const ancestorHashes = async (entry: TokenEntry): Promise<string[]> => {
    const found = new Set<string>();
    // A cycle of parents (planted: no creation makes one) ends the walk where it closes.
    for (let hash = entry.parentHash; hash !== '' && !found.has(hash); ) {
      found.add(hash);
      hash = (await fetchEntry(hash))?.entry.parentHash ?? '';
    }
    return [...found];
  };

  const sweep = async (): Promise<number> => {
    // Each token this sweep revoked, with its ancestors then: a tree is counted once, by its top,
    // however the due entries of tokens expiring together are ordered.
    const revoked = new Map<string, string[]>();
    const at = now();
    for (const path of await storage.listPaths(DUE)) {
      const [time, hash] = path.slice(DUE.length).split('/') as [string, string];
      if (Number(time) > at) break; // sorted by time: the rest is not due yet
      const stored = await storage.read<TokenEntry>(ID + hash);
      if (stored === undefined) {
        await storage.remove(path);
      } else if (!isLive(stored.data, at)) {
        const ancestors = await ancestorHashes(stored.data);
        if (await revokeTree(hash)) revoked.set(hash, ancestors);
      } else if (dueKeyOf(stored.data) !== path) {
        await storage.remove(path); // left behind by a renewal on an older version
      }
    }
    let trees = 0;
    for (const ancestors of revoked.values())
      if (!ancestors.some((ancestor) => revoked.has(ancestor))) trees++;
    return trees;
  };

  /** See `TokenStore.revokeOrphan`: children are orphaned, then the token is revoked. */
  const revokeOrphanHash = async (hash: string): Promise<void> => {
    // The orphaned children keep acting for whom they acted for (judged before the mark, while
    // the token is live): their own display names would be new people otherwise.
    const revoked = await fetchEntry(hash);
    const person = revoked === undefined ? undefined : await personOf(revoked.entry);
    if ((await mark(hash)) === undefined) return;
    for (const link of await storage.listPaths(`${CHILD}${hash}/`)) {
      const child = link.slice(link.lastIndexOf('/') + 1);
      await retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<TokenEntry>(ID + child);
          if (stored !== undefined && stored.data.parentHash === hash)
            await tx.replace(
              ID + child,
              {
                ...stored.data,
                parentHash: '',
                ...(person === undefined ? {} : { creator: stored.data.creator ?? person }),
              },
              stored.revision,
            );
          if ((await tx.revision(link)) !== undefined) await tx.remove(link);
        }),
      );
    }
    // Marked, so no child was linked since: only the token itself goes.
    await revokeTree(hash);
  };

  const tidy = async (): Promise<TidyResult> => {
    const revoked = await sweep();
    let accessors = 0;
    for (const path of await storage.listPaths(ACCESSOR)) {
      const hash = (await storage.read<{ hash: string }>(path))?.data.hash;
      // Written with the entry and removed with it, in one transaction: gone entry, gone token.
      if (hash !== undefined && (await storage.revision(ID + hash)) !== undefined) continue;
      // Counted only if still there: a concurrent revocation may have removed it meanwhile.
      if ((await storage.revision(path)) === undefined) continue;
      await storage.remove(path);
      accessors++;
    }
    let links = 0;
    for (const link of await storage.listPaths(CHILD)) {
      const [parent = '', child = ''] = link.slice(CHILD.length).split('/');
      if ((await storage.revision(ID + child)) === undefined) {
        if ((await storage.revision(link)) === undefined) continue; // removed meanwhile
        await storage.remove(link);
        links++;
      } else if ((await storage.revision(ID + parent)) === undefined) {
        // Its parent is gone, so it is dead already (its ancestors are not live): revoked.
        await revokeTree(child);
        links++;
      }
    }
    return { revoked, accessors, links };
  };

  const revokeIssuedBy = async (mount: string): Promise<number> => {
    let revoked = 0;
    for (const path of await storage.listPaths(ID)) {
      const hash = path.slice(ID.length);
      const stored = await fetchEntry(hash);
      if (stored?.entry.mount === mount && (await revokeTree(hash))) revoked++;
    }
    return revoked;
  };

  const sweeper = createPeriodicTask(
    sweep,
    options.sweepIntervalMs ?? 60_000,
    options.onSweepError,
  );

  return {
    /** The store's clock (Unix seconds), for responses that report remaining time. */
    now,

    /**
     * Issues a token. A child is created only if its parent is still live and not use-limited,
     * checked in the transaction that links the child, with the parent's row locked against
     * revocation until it commits (see `NOTES.md`).
     */
    async create(input: CreateTokenInput): Promise<IssuedToken> {
      if (input.parent?.type === 'batch')
        throw new CustosError('ERR_INVALID_REQUEST', BATCH_PARENT);
      if (input.parent !== undefined && input.parent.numUses !== 0)
        throw new CustosError('ERR_INVALID_REQUEST', USE_LIMITED_PARENT);
      if (input.type === 'batch') return createBatch(input);
      const chosen = input.id;
      if (chosen !== undefined) {
        if (!CHOSEN_ID.test(chosen)) throw new CustosError('ERR_INVALID_REQUEST', UNUSABLE_ID);
        const reserved = RESERVED_ID_PREFIXES.find((prefix) => chosen.startsWith(prefix));
        if (reserved !== undefined)
          throw new CustosError(
            'ERR_INVALID_REQUEST',
            `custom token ID cannot have the '${reserved}' prefix`,
          );
      }
      const token =
        input.id ??
        TOKEN_PREFIX + generateSecret({ encoding: 'alphanumeric', length: 32 }).secret.reveal();
      const hash = await hashOf(token);
      const accessor = generateSecret({ encoding: 'alphanumeric', length: 24 }).secret.reveal();
      const linked = input.parent !== undefined && input.orphan !== true;
      // Whom an orphan acts for is its maker's person, judged before the maker is re-checked.
      const creator = await creatorOf(input);
      return storage.transaction(async (tx) => {
        const at = now();
        let parent: TokenEntry | undefined;
        if (input.parent !== undefined) {
          // The creator, orphans' included, is re-checked under the lock: a token whose
          // revocation has started creates nothing, linked or not.
          const stored = await tx.readLocked<TokenEntry>(ID + input.parent.hash);
          if (stored === undefined || !isLive(stored.data, at)) throw new PermissionDenied();
          if (stored.data.numUses !== 0)
            throw new CustosError('ERR_INVALID_REQUEST', USE_LIMITED_PARENT);
          if (linked) parent = stored.data;
        }
        const entry: TokenEntry = {
          accessor,
          policies: [...new Set(input.policies)].sort(),
          displayName: input.displayName ?? 'token',
          meta: input.meta ?? {},
          ...initialLifetime(lifetimeRequest(input), at, parent),
          numUses: input.numUses ?? 0,
          parentHash: parent?.hash ?? '',
          path: input.path,
          hash,
          ...extras(input),
          ...creator,
        };
        // A chosen id that a token has is refused in Vault's words (never by storage path): the
        // create finds the entry there, whether it was committed before or races this one.
        await tx.create(ID + hash, entry).catch((err: unknown) => {
          if (isServerError(err, 'ERR_VERSION_CONFLICT'))
            throw new CustosError('ERR_INVALID_REQUEST', DUPLICATE_ID);
          throw err;
        });
        await tx.create(ACCESSOR + accessor, { hash });
        if (parent !== undefined) await tx.create(childLinkOf(entry), {});
        const due = dueKeyOf(entry);
        if (due !== undefined) await tx.write(due, {});
        return { token, entry };
      });
    },

    /** The live entry for `token`, or undefined (unknown, expired, revoked, or dead ancestor). */
    async lookup(token: string): Promise<TokenEntry | undefined> {
      return (await read(token))?.entry;
    },

    /**
     * Resolves the token of a request and spends one use of a limited-use token; the last use
     * revokes it. Throws `PermissionDenied` for anything but a live token.
     */
    async authenticate(token: string | undefined, clientAddress?: string): Promise<TokenEntry> {
      if (token === undefined) throw new PermissionDenied();
      return retryOnConflict(async () => {
        const found = await read(token);
        if (found === undefined) throw new PermissionDenied();
        // A conflict below means the entry changed on another node after it was cached (its
        // notification not yet here): the storage drops the cached copy of every path a write
        // was tried on, so the retry reads it afresh (token-store-stale-cache.test.ts).
        const { entry, revision } = found;
        // A token bound to CIDR blocks works only from inside them (Vault's token_bound_cidrs).
        if (
          entry.boundCidrs !== undefined &&
          !cidrList(entry.boundCidrs, 'token_bound_cidrs').has(clientAddress)
        )
          throw new PermissionDenied();
        if (entry.numUses === 0) return entry;
        if (entry.numUses === 1) {
          // Marking claims the last use (the revision check lets one request have it).
          await storage.transaction((tx) => markInTx(tx, entry, revision));
          await revokeTree(entry.hash);
          return entry;
        }
        await storage.replace(ID + entry.hash, { ...entry, numUses: entry.numUses - 1 }, revision);
        return entry;
      });
    },

    /**
     * Extends a renewable token's TTL by `incrementSeconds` (default: its creation TTL), never
     * past its maximum nor its parent's current expiry.
     */
    async renew(entry: TokenEntry, incrementSeconds?: number): Promise<TokenEntry> {
      if (entry.type === 'batch') throw new CustosError('ERR_INVALID_REQUEST', BATCH_RENEW);
      return retryOnConflict(async () => {
        const at = now();
        const stored = await storage.read<TokenEntry>(ID + entry.hash);
        if (stored === undefined || !isLive(stored.data, at)) throw new PermissionDenied();
        const current = stored.data;
        if (!current.renewable || current.expireTime === 0)
          throw new CustosError('ERR_INVALID_REQUEST', 'token is not renewable');
        let parent: TokenEntry | undefined;
        if (current.parentHash !== '') {
          parent = (await readHash(current.parentHash))?.entry;
          if (parent === undefined) throw new PermissionDenied();
        }
        const renewed = {
          ...current,
          expireTime: renewedExpiry(current, at, incrementSeconds, parent),
        };
        await storage.transaction(async (tx) => {
          await tx.replace(ID + current.hash, renewed, stored.revision);
          await moveDue(tx, current, renewed);
        });
        return renewed;
      });
    },

    /** Revokes a token and, unless they are orphans, all tokens created from it. */
    async revoke(entry: TokenEntry): Promise<void> {
      if (entry.type === 'batch') throw new CustosError('ERR_INVALID_REQUEST', BATCH_REVOKE);
      await revokeTree(entry.hash);
    },

    /** Revokes the token with this value and its tree, live or not (no-op when unknown). */
    async revokeToken(token: string): Promise<void> {
      if (typeof token === 'string' && isBatchToken(token))
        throw new CustosError('ERR_INVALID_REQUEST', BATCH_REVOKE);
      if (plausible(token)) await revokeTree(await hashOf(token));
    },

    /** Revokes the token with this accessor and its tree, live or not (no-op when unknown). */
    async revokeAccessor(accessor: string): Promise<void> {
      const hash = await accessorHash(accessor);
      if (hash !== undefined) await revokeTree(hash);
    },

    async revokeOrphan(token: string): Promise<void> {
      if (typeof token === 'string' && isBatchToken(token))
        throw new CustosError('ERR_INVALID_REQUEST', BATCH_REVOKE);
      if (plausible(token)) await revokeOrphanHash(await hashOf(token));
    },

    revokeIssuedBy,
    tidy,

    /** Finds a live token entry by accessor. */
    async byAccessor(accessor: string): Promise<TokenEntry | undefined> {
      const hash = await accessorHash(accessor);
      return hash === undefined ? undefined : (await readHash(hash))?.entry;
    },

    rootOf,
    personOf,

    /** The accessor of every stored (service) token, sorted (as storage lists them). */
    async listAccessors(): Promise<string[]> {
      return (await storage.listPaths(ACCESSOR)).map((p) => p.slice(ACCESSOR.length));
    },

    /**
     * Revokes every token whose expiry has passed (with its tree), and finishes revocations
     * that were interrupted. Returns how many trees it revoked.
     */
    sweep,

    /** Sweeps every `sweepIntervalMs` until `stopSweeping` (run while unsealed). */
    startSweeping: sweeper.start,
    stopSweeping: sweeper.stop,

    /** The key tokens (and AppRole IDs) are hashed with. */
    hmacKey: key,

    /** Forgets the HMAC key and cached entries (after a seal). */
    clear(): void {
      keys.clear();
      cache.clear();
    },
  };
}
