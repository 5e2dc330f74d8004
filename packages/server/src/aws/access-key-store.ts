import { randomBytes } from 'node:crypto';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { AWS } from '../storage/layout.js';

/**
 * An access key as stored, behind the barrier, under its id. The secret access key is kept
 * itself, not a hash of it: SigV4 never sends the secret, only an HMAC chain keyed by it over
 * the request, so the server must hold the key to recompute the signature (docs/aws.md).
 */
export interface AccessKeyEntry {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly policies: readonly string[];
  /** Unix seconds. */
  readonly createdAt: number;
  /** Unix seconds; 0 = never. */
  readonly expireTime: number;
  /**
   * The accessor of the token that made it, when that token was not root: the key works only
   * while that token does (revoked, expired or its parent revoked: the key is refused).
   */
  readonly creatorAccessor?: string;
}

/** What {@link AccessKeyStore.create} takes. */
export interface CreateAccessKeyInput {
  readonly policies: readonly string[];
  /** Lifetime in seconds; 0 or missing = no expiry. */
  readonly ttlSeconds?: number;
  /**
   * The token that makes it, unless root: the key is bound to it (see
   * {@link AccessKeyEntry.creatorAccessor}) and expires no later than it (`expireTime`, Unix
   * seconds, 0 = never).
   */
  readonly creator?: { readonly accessor: string; readonly expireTime: number };
}

/**
 * Access keys for the Secrets Manager API: each maps to policies, as a token does.
 *
 * @example
 * ```ts
 * const { accessKeyId, secretAccessKey } = await keys.create({ policies: ['app'], ttlSeconds: 3600 });
 * const entry = await keys.lookup(accessKeyId); // undefined once expired
 * ```
 */
export interface AccessKeyStore {
  /** Issues a key; its secret is returned here and never again. */
  create(input: CreateAccessKeyInput): Promise<AccessKeyEntry>;
  /** The live key with this id, or undefined (unknown, expired or revoked). */
  lookup(accessKeyId: string): Promise<AccessKeyEntry | undefined>;
  /** Revokes the key (no-op when unknown). */
  revoke(accessKeyId: string): Promise<void>;
}

/** Access key ids look like AWS's: 20 upper-case letters and digits, custos's start `AKCU`. */
const ID_PATTERN = /^AKCU[A-Z2-7]{16}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Whether `text` can be an access key id this server issued (checked before any lookup). */
export const isAccessKeyId = (text: string): boolean => ID_PATTERN.test(text);

/**
 * The access key store on its own storage view (`aws/access-key/`).
 *
 * @example
 * ```ts
 * const keys = createAccessKeyStore(barrier, () => Date.now() / 1000);
 * ```
 */
export function createAccessKeyStore(
  barrier: Barrier,
  now: () => number,
  /** Whether the token with this accessor (and every ancestor) is still live. */
  tokenLive: (accessor: string) => Promise<boolean> = async () => false,
): AccessKeyStore {
  const storage = barrierView(barrier, AWS.prefix);
  const pathOf = (id: string) => AWS.accessKey + id;
  return {
    async create(input) {
      const bytes = randomBytes(16);
      const accessKeyId = `AKCU${[...bytes].map((b) => BASE32[b % 32]).join('')}`;
      const createdAt = Math.floor(now());
      const ttl = input.ttlSeconds ?? 0;
      const asked = ttl > 0 ? createdAt + ttl : 0;
      const limit = input.creator?.expireTime ?? 0;
      const expireTime = limit === 0 ? asked : asked === 0 ? limit : Math.min(asked, limit);
      const entry: AccessKeyEntry = {
        accessKeyId,
        // 30 random bytes: 40 base64 characters, as AWS's secret access keys.
        secretAccessKey: randomBytes(30).toString('base64'),
        policies: [...input.policies],
        createdAt,
        expireTime,
        ...(input.creator === undefined ? {} : { creatorAccessor: input.creator.accessor }),
      };
      await storage.create(pathOf(accessKeyId), entry);
      return entry;
    },
    async lookup(accessKeyId) {
      if (!isAccessKeyId(accessKeyId)) return undefined;
      const entry = (await storage.read<AccessKeyEntry>(pathOf(accessKeyId)))?.data;
      if (entry === undefined) return undefined;
      if (entry.expireTime !== 0 && entry.expireTime <= now()) return undefined;
      if (entry.creatorAccessor !== undefined && !(await tokenLive(entry.creatorAccessor)))
        return undefined;
      return entry;
    },
    async revoke(accessKeyId) {
      if (!isAccessKeyId(accessKeyId)) return;
      await storage.remove(pathOf(accessKeyId));
    },
  };
}
