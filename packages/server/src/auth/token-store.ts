import { createSecretKey, type KeyObject } from 'node:crypto';
import { generateSecret, hmacSha256 } from '@custos/core/crypto';
import { CustosError, PermissionDenied } from '@custos/core/errors';
import { type Barrier, type BarrierWriter, retryOnConflict } from '../barrier/barrier.js';

/** Vault's defaults: 768 h (32 days) default and maximum TTL for service tokens. */
export const DEFAULT_TOKEN_TTL_SECONDS = 768 * 3600;
export const MAX_TOKEN_TTL_SECONDS = 768 * 3600;

/** A token as stored (under the keyed hash of its value; the value itself is never stored). */
export interface TokenEntry {
  readonly accessor: string;
  readonly policies: string[];
  readonly displayName: string;
  readonly meta: Record<string, string>;
  /** Unix seconds. */
  readonly creationTime: number;
  /** Seconds granted at creation (0 = no expiry, root tokens only). */
  readonly creationTtl: number;
  /** Unix seconds; 0 = never expires. */
  readonly expireTime: number;
  /** Unix seconds after which renewal cannot extend the token; 0 = none. */
  readonly maxExpireTime: number;
  readonly renewable: boolean;
  /** Remaining uses; 0 = unlimited. */
  readonly numUses: number;
  /** Keyed hash of the parent token; '' for orphans. */
  readonly parentHash: string;
  /** The path that created it, e.g. `auth/token/create` or `auth/approle/login`. */
  readonly path: string;
  /** The keyed hash under which the entry is stored. */
  readonly hash: string;
}

/** Parameters for a new token. */
export interface CreateTokenInput {
  readonly policies: readonly string[];
  readonly ttlSeconds?: number;
  readonly explicitMaxTtlSeconds?: number;
  readonly renewable?: boolean;
  readonly numUses?: number;
  readonly displayName?: string;
  readonly meta?: Record<string, string>;
  readonly parent?: TokenEntry;
  readonly orphan?: boolean;
  readonly path: string;
  /** A caller-chosen token value (root tokens in dev mode only). */
  readonly id?: string;
}

/** A token value and its entry. The value is returned once and never stored. */
export interface IssuedToken {
  readonly token: string;
  readonly entry: TokenEntry;
}

const HMAC_KEY_PATH = 'core/token-hmac-key';
const ID = 'sys/token/id/';
const ACCESSOR = 'sys/token/accessor/';
const CHILD = 'sys/token/child/';
export const TOKEN_PREFIX = 'cst.';

/**
 * Issues, looks up, renews and revokes tokens. Only HMAC-SHA256(key, token) reaches storage
 * (the key lives behind the barrier); lookups recompute it, so a database dump reveals no token.
 *
 * @example
 * ```ts
 * const tokens = createTokenStore(barrier);
 * const { token } = await tokens.create({ policies: ['app'], ttlSeconds: 3600, path: 'auth/token/create' });
 * const entry = await tokens.lookup(token);
 * ```
 */
export function createTokenStore(barrier: Barrier, now: () => number = () => Date.now() / 1000) {
  let hmacKey: KeyObject | undefined;

  const key = async (): Promise<KeyObject> => {
    if (hmacKey !== undefined) return hmacKey;
    const stored = await barrier.read<{ key: string }>(HMAC_KEY_PATH);
    if (stored !== undefined) {
      hmacKey = createSecretKey(Buffer.from(stored.data.key, 'base64'));
    } else {
      const fresh = generateSecret({ encoding: 'base64', bytes: 32 }).secret.reveal();
      try {
        await barrier.create(HMAC_KEY_PATH, { key: fresh });
        hmacKey = createSecretKey(Buffer.from(fresh, 'base64'));
      } catch {
        // Another node created it first: use theirs.
        const winner = await barrier.read<{ key: string }>(HMAC_KEY_PATH);
        hmacKey = createSecretKey(
          Buffer.from((winner as { data: { key: string } }).data.key, 'base64'),
        );
      }
    }
    return hmacKey;
  };

  const hashOf = async (token: string): Promise<string> =>
    hmacSha256(await key(), token).toString('hex');

  const remove = async (tx: BarrierWriter, entry: TokenEntry): Promise<void> => {
    await tx.remove(ID + entry.hash);
    await tx.remove(ACCESSOR + entry.accessor);
    if (entry.parentHash !== '') await tx.remove(`${CHILD}${entry.parentHash}/${entry.hash}`);
  };

  const revokeTree = async (entry: TokenEntry): Promise<void> => {
    // Children first (depth-first), so no child outlives its parent even if this is interrupted.
    for (const path of await barrier.listPaths(`${CHILD}${entry.hash}/`)) {
      const child = await barrier.read<TokenEntry>(ID + path.slice(path.lastIndexOf('/') + 1));
      if (child !== undefined) await revokeTree(child.data);
      else await barrier.remove(path);
    }
    await barrier.transaction((tx) => remove(tx, entry));
  };

  // Parsed entries, revalidated on every use by their storage revision (one indexed lookup, no
  // decryption): a revocation, renewal or spent use on any node is seen at once.
  const cache = new Map<string, { entry: TokenEntry; revision: number }>();
  const CACHE_LIMIT = 10_000;

  const fetchEntry = async (hash: string) => {
    const revision = await barrier.revision(ID + hash);
    if (revision === undefined) {
      cache.delete(hash);
      return undefined;
    }
    const hit = cache.get(hash);
    if (hit !== undefined && hit.revision === revision) return hit;
    const stored = await barrier.read<TokenEntry>(ID + hash);
    if (stored === undefined) return undefined;
    const fresh = { entry: stored.data, revision: stored.revision };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(hash, fresh);
    return fresh;
  };

  const read = async (
    token: string,
  ): Promise<{ entry: TokenEntry; revision: number } | undefined> => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 256) return undefined;
    const stored = await fetchEntry(await hashOf(token));
    if (stored === undefined) return undefined;
    if (stored.entry.expireTime !== 0 && stored.entry.expireTime <= now()) {
      await revokeTree(stored.entry);
      return undefined;
    }
    return stored;
  };

  return {
    async create(input: CreateTokenInput): Promise<IssuedToken> {
      const token =
        input.id ??
        TOKEN_PREFIX + generateSecret({ encoding: 'alphanumeric', length: 32 }).secret.reveal();
      // Expiry is computed from the exact time: flooring it would cut up to a second off every TTL.
      const at = now();
      const created = Math.floor(at);
      const isRoot = input.policies.includes('root');
      const explicitMax = input.explicitMaxTtlSeconds ?? 0;
      // Only root tokens may live forever; everything else gets the default TTL, capped.
      const requested = input.ttlSeconds ?? 0;
      let ttl =
        requested > 0
          ? Math.min(requested, MAX_TOKEN_TTL_SECONDS)
          : isRoot
            ? 0
            : DEFAULT_TOKEN_TTL_SECONDS;
      if (explicitMax > 0) ttl = ttl === 0 ? explicitMax : Math.min(ttl, explicitMax);
      if (input.parent && input.parent.expireTime !== 0 && !input.orphan) {
        // A child never outlives its parent.
        const left = Math.max(1, input.parent.expireTime - at);
        ttl = ttl === 0 ? left : Math.min(ttl, left);
      }
      const entry: TokenEntry = {
        accessor: generateSecret({ encoding: 'alphanumeric', length: 24 }).secret.reveal(),
        policies: [...new Set(input.policies)].sort(),
        displayName: input.displayName ?? 'token',
        meta: input.meta ?? {},
        creationTime: created,
        creationTtl: ttl,
        expireTime: ttl === 0 ? 0 : at + ttl,
        maxExpireTime:
          explicitMax > 0 ? at + explicitMax : ttl === 0 ? 0 : at + MAX_TOKEN_TTL_SECONDS,
        renewable: ttl === 0 ? false : (input.renewable ?? true),
        numUses: input.numUses ?? 0,
        parentHash: input.orphan || input.parent === undefined ? '' : input.parent.hash,
        path: input.path,
        hash: await hashOf(token),
      };
      await barrier.transaction(async (tx) => {
        await tx.create(ID + entry.hash, entry);
        await tx.create(ACCESSOR + entry.accessor, { hash: entry.hash });
        if (entry.parentHash !== '')
          await tx.create(`${CHILD}${entry.parentHash}/${entry.hash}`, {});
      });
      return { token, entry };
    },

    /** The live entry for `token`, or undefined (unknown, expired or revoked). */
    async lookup(token: string): Promise<TokenEntry | undefined> {
      return (await read(token))?.entry;
    },

    /**
     * Resolves the token of a request and spends one use of a limited-use token; the last use
     * revokes it. Throws `PermissionDenied` for anything but a live token.
     */
    async authenticate(token: string | undefined): Promise<TokenEntry> {
      if (token === undefined) throw new PermissionDenied();
      return retryOnConflict(async () => {
        const found = await read(token);
        if (found === undefined) throw new PermissionDenied();
        const { entry, revision } = found;
        if (entry.numUses === 0) return entry;
        // -1 marks a spent limited-use token whose revocation is under way.
        if (entry.numUses < 0) throw new PermissionDenied();
        if (entry.numUses === 1) {
          await barrier.replace(ID + entry.hash, { ...entry, numUses: -1 }, revision);
          await revokeTree(entry);
          return entry;
        }
        await barrier.replace(ID + entry.hash, { ...entry, numUses: entry.numUses - 1 }, revision);
        return entry;
      });
    },

    /** Extends a renewable token's TTL (never past its maximum). */
    async renew(entry: TokenEntry, incrementSeconds?: number): Promise<TokenEntry> {
      if (!entry.renewable) throw new CustosError('ERR_INVALID_REQUEST', 'token is not renewable');
      return retryOnConflict(async () => {
        const stored = await barrier.read<TokenEntry>(ID + entry.hash);
        if (stored === undefined) throw new PermissionDenied();
        const at = now();
        const increment = incrementSeconds || stored.data.creationTtl || DEFAULT_TOKEN_TTL_SECONDS;
        const cap =
          stored.data.maxExpireTime === 0 ? Number.POSITIVE_INFINITY : stored.data.maxExpireTime;
        const renewed = { ...stored.data, expireTime: Math.min(at + increment, cap) };
        await barrier.replace(ID + entry.hash, renewed, stored.revision);
        return renewed;
      });
    },

    /** Revokes a token and, unless they are orphans, all tokens created from it. */
    revoke: (entry: TokenEntry): Promise<void> => revokeTree(entry),

    /** Finds a live token entry by accessor. */
    async byAccessor(accessor: string): Promise<TokenEntry | undefined> {
      const link = await barrier.read<{ hash: string }>(ACCESSOR + accessor);
      if (link === undefined) return undefined;
      return (await barrier.read<TokenEntry>(ID + link.data.hash))?.data;
    },

    /** The key tokens (and AppRole IDs) are hashed with. */
    hmacKey: key,

    /** Forgets the HMAC key and cached entries (after a seal). */
    clear(): void {
      hmacKey = undefined;
      cache.clear();
    },
  };
}

/** The token store's interface. */
export type TokenStore = ReturnType<typeof createTokenStore>;

/** Seconds until `entry` expires (0 for tokens that never do). */
export function remainingTtl(entry: TokenEntry, nowSeconds = Date.now() / 1000): number {
  return entry.expireTime === 0 ? 0 : Math.max(0, Math.floor(entry.expireTime - nowSeconds));
}
