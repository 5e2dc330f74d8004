import { CustosError } from '@custos/core/errors';
import type { TokenStore } from '../auth/token-store.js';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { WRAPPING } from '../storage/layout.js';

/** The policy of a wrapping token: it grants nothing; the token only unwraps its response. */
export const WRAPPING_POLICY = 'response-wrapping';

/** Vault's refusal of a wrapping token that is unknown, used, expired or not a wrapping token. */
export const INVALID_WRAPPING_TOKEN = 'wrapping token is not valid or does not exist';

/** The `wrap_info` block of a wrapped response, as Vault's. */
export interface WrapInfo {
  readonly token: string;
  readonly accessor: string;
  readonly ttl: number;
  readonly creation_time: string;
  readonly creation_path: string;
  /** The accessor of the token the wrapped response issued (only for such responses). */
  readonly wrapped_accessor?: string;
}

/** What `sys/wrapping/lookup` tells about a wrapping token (nothing of the response). */
export interface WrappingLookup {
  readonly creation_path: string;
  readonly creation_time: string;
  readonly creation_ttl: number;
}

/** A wrapped response as stored (behind the barrier). */
interface StoredWrap extends WrappingLookup {
  readonly response: unknown;
  /** When the wrapping token expires (Unix seconds): the entry may be dropped from then on. */
  readonly expires: number;
}

/**
 * Response wrapping: a response is stored behind the barrier and handed out as a single-use
 * wrapping token (a token with only the `response-wrapping` policy, one use and the wrap TTL).
 * Unwrapping spends that one use (the token store's conditional write lets exactly one of
 * concurrent unwraps have it), then takes the stored response.
 *
 * @example
 * ```ts
 * const info = await wrapping.wrap({ data: { secret_id: '…' } }, 60, 'auth/approle/role/ci/secret-id');
 * const response = await wrapping.unwrap(info.token);
 * ```
 */
export interface WrappingStore {
  /** Stores `response` and returns the wrapping token that unwraps it, valid `ttlSeconds`. */
  wrap(response: unknown, ttlSeconds: number, creationPath: string): Promise<WrapInfo>;
  /** The stored response, once: the token is spent (`INVALID_WRAPPING_TOKEN` afterwards). */
  unwrap(token: string): Promise<unknown>;
  /** When and where `token` was made, without spending it. */
  lookup(token: string): Promise<WrappingLookup>;
  /** Spends `token` and wraps its response again under a new token (same TTL and path). */
  rewrap(token: string): Promise<WrapInfo>;
  /** Drops the stored responses whose wrapping token has expired. Returns how many. */
  sweep(): Promise<number>;
}

const invalid = () => new CustosError('ERR_INVALID_REQUEST', INVALID_WRAPPING_TOKEN);

const dueKey = (expires: number, accessor: string) =>
  `${WRAPPING.due}${String(Math.ceil(expires)).padStart(12, '0')}/${accessor}`;

/**
 * The wrapping store on `barrier` (its `WRAPPING` area), issuing wrapping tokens from `tokens`.
 *
 * @example
 * ```ts
 * const wrapping = createWrappingStore(barrier, tokens);
 * ```
 */
export function createWrappingStore(barrier: Barrier, tokens: TokenStore): WrappingStore {
  const storage = barrierView(barrier, WRAPPING.prefix);

  /** The entry of a live wrapping token, or `INVALID_WRAPPING_TOKEN`. */
  const wrappingEntry = async (token: string) => {
    const entry = typeof token === 'string' ? await tokens.lookup(token) : undefined;
    if (entry === undefined) throw invalid();
    if (entry.policies.length !== 1 || entry.policies[0] !== WRAPPING_POLICY) throw invalid();
    return entry;
  };

  /** Spends the token's one use and takes its stored response (exactly one caller gets it). */
  const take = async (token: string): Promise<StoredWrap> => {
    const entry = await wrappingEntry(token);
    try {
      await tokens.authenticate(token);
    } catch {
      throw invalid(); // another request spent it first
    }
    const key = WRAPPING.response + entry.accessor;
    const stored = await storage.read<StoredWrap>(key);
    if (stored === undefined) throw invalid();
    await storage.transaction(async (tx) => {
      await tx.remove(key);
      await tx.remove(dueKey(stored.data.expires, entry.accessor));
    });
    return stored.data;
  };

  const store = async (
    response: unknown,
    ttlSeconds: number,
    creationPath: string,
    creationTime: string,
  ): Promise<WrapInfo> => {
    const { token, entry } = await tokens.create({
      policies: [WRAPPING_POLICY],
      ttlSeconds,
      numUses: 1,
      displayName: WRAPPING_POLICY,
      path: creationPath,
    });
    const expires = entry.expireTime;
    const stored: StoredWrap = {
      response,
      creation_path: creationPath,
      creation_time: creationTime,
      creation_ttl: ttlSeconds,
      expires,
    };
    try {
      await storage.transaction(async (tx) => {
        await tx.create(WRAPPING.response + entry.accessor, stored);
        await tx.write(dueKey(expires, entry.accessor), {});
      });
    } catch (err) {
      await tokens.revoke(entry).catch(() => {});
      throw err;
    }
    const auth = (response as { auth?: { accessor?: unknown } | null } | null)?.auth;
    return {
      token,
      accessor: entry.accessor,
      ttl: ttlSeconds,
      creation_time: creationTime,
      creation_path: creationPath,
      ...(typeof auth?.accessor === 'string' ? { wrapped_accessor: auth.accessor } : {}),
    };
  };

  const sweep = async (): Promise<number> => {
    let dropped = 0;
    const at = tokens.now();
    for (const path of await storage.listPaths(WRAPPING.due)) {
      const [time, accessor] = path.slice(WRAPPING.due.length).split('/') as [string, string];
      if (Number(time) > at) break; // sorted by time: the rest is not due yet
      await storage.transaction(async (tx) => {
        await tx.remove(WRAPPING.response + accessor);
        await tx.remove(path);
      });
      dropped++;
    }
    return dropped;
  };

  return {
    async wrap(response, ttlSeconds, creationPath) {
      // Expired wrapped responses go as new ones come (their tokens no longer unwrap them).
      await sweep();
      return store(response, ttlSeconds, creationPath, new Date(tokens.now() * 1000).toISOString());
    },
    async unwrap(token) {
      return (await take(token)).response;
    },
    async lookup(token) {
      const entry = await wrappingEntry(token);
      const stored = await storage.read<StoredWrap>(WRAPPING.response + entry.accessor);
      if (stored === undefined) throw invalid();
      const { creation_path, creation_time, creation_ttl } = stored.data;
      return { creation_path, creation_time, creation_ttl };
    },
    async rewrap(token) {
      const taken = await take(token);
      return store(
        taken.response,
        taken.creation_ttl,
        taken.creation_path,
        new Date(tokens.now() * 1000).toISOString(),
      );
    },
    sweep,
  };
}
