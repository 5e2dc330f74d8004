import { CustosError } from '@custos/core/errors';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView, isViewKey } from '../barrier/barrier-view.js';
import type { CacheCounter } from '../metrics/cache-counter.js';
import { POLICIES } from '../storage/layout.js';
import { Acl } from './acl.js';
import { type Policy, policyFromDocument, validatePolicyName } from './policy-parse.js';
import { policyDocumentOf } from './policy-text.js';

/** The rules of the built-in `default` policy (its text, {@link DEFAULT_POLICY_TEXT}, says the same). */
const DEFAULT_RULES: Readonly<Record<string, readonly string[]>> = {
  'auth/token/lookup-self': ['read'],
  'auth/token/renew-self': ['update'],
  'auth/token/revoke-self': ['update'],
  'sys/capabilities-self': ['update'],
  'sys/internal/ui/mounts/*': ['read'],
  // Each token's own cubbyhole (only that token reaches its cubbyhole's storage).
  'cubbyhole/*': ['create', 'read', 'update', 'delete', 'list'],
};

/**
 * What every token may do to itself, as Vault's `default` policy allows, in HCL as Vault shows
 * it. Stored (and editable) like any other policy; it cannot be deleted.
 */
export const DEFAULT_POLICY_TEXT = Object.entries(DEFAULT_RULES)
  .map(
    ([pattern, caps]) =>
      `path "${pattern}" {\n  capabilities = [${caps.map((c) => `"${c}"`).join(', ')}]\n}\n`,
  )
  .join('\n');

/** {@link DEFAULT_POLICY_TEXT} as its document: the built-in policy needs no parser. */
export const DEFAULT_POLICY_DOCUMENT = {
  path: Object.fromEntries(
    Object.entries(DEFAULT_RULES).map(([pattern, caps]) => [pattern, [{ capabilities: caps }]]),
  ),
};

/**
 * A stored policy: the text as it was written (what a read returns) and the document read from
 * it (what the ACL is built from, so reading a policy never needs the HCL parser). Policies
 * stored before HCL was read have only `text`, in Vault's JSON form.
 */
interface StoredPolicy {
  readonly text: string;
  readonly document?: unknown;
}

/** Options for {@link createPolicyStore}. */
export interface PolicyStoreOptions {
  /**
   * How long a policy read from storage is trusted before being read again. Writes through
   * this node are seen at once; on other nodes sharing the database, after at most this long.
   */
  readonly cacheTtlMs?: number;
  /**
   * Most policies (and misses) kept in the cache; the oldest goes first. A bound, because a
   * caller chooses the names looked up (a write to `sys/policies/acl/<any name>`).
   */
  readonly cacheLimit?: number;
  readonly now?: () => number;
  /** Counts the lookups of the policy cache (metrics). */
  readonly cacheCounter?: CacheCounter;
}

/** Policies in storage, with the built-in `root` and `default`. */
export interface PolicyStore {
  get(name: string): Promise<Policy | undefined>;
  put(name: string, text: string): Promise<void>;
  delete(name: string): Promise<void>;
  list(): Promise<string[]>;
  /** The ACL for a token holding `names` (unknown names grant nothing). */
  aclFor(names: readonly string[]): Promise<Acl>;
  /** Forgets cached policies (after a seal). */
  clear(): void;
}

/**
 * Creates the policy store over the barrier.
 *
 * @example
 * ```ts
 * const policies = createPolicyStore(barrier);
 * await policies.put('app', 'path "secret/data/app/*" { capabilities = ["read"] }');
 * const acl = await policies.aclFor(['default', 'app']);
 * ```
 */
export function createPolicyStore(barrier: Barrier, options: PolicyStoreOptions = {}): PolicyStore {
  // The policy area of storage, and nothing else (a policy's key is its name).
  const storage = barrierView(barrier, POLICIES.prefix);
  const ttl = options.cacheTtlMs ?? 5000;
  const now = options.now ?? Date.now;
  const limit = options.cacheLimit ?? 1000;
  const cache = new Map<string, { policy: Policy | undefined; at: number }>();
  // Bumped by every local write (and clear): a read that started before one does not cache
  // what it read, which may be the policy as it was before the write.
  let generation = 0;
  const remember = (name: string, policy: Policy | undefined) => {
    cache.delete(name);
    if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
    cache.set(name, { policy, at: now() });
  };

  const get = async (name: string): Promise<Policy | undefined> => {
    const hit = cache.get(name);
    if (hit !== undefined && now() - hit.at < ttl) {
      options.cacheCounter?.hit();
      return hit.policy;
    }
    options.cacheCounter?.miss();
    const started = generation;
    // A name no storage key can hold (a token may carry any policy name) names no policy.
    const entry = isViewKey(name) ? await storage.read<StoredPolicy>(name) : undefined;
    const stored = entry?.data;
    let policy =
      stored === undefined
        ? undefined
        : policyFromDocument(name, stored.document ?? JSON.parse(stored.text), stored.text);
    if (policy === undefined && name === 'default')
      policy = policyFromDocument('default', DEFAULT_POLICY_DOCUMENT, DEFAULT_POLICY_TEXT);
    if (generation === started) remember(name, policy);
    return policy;
  };

  return {
    get,
    async put(name, text) {
      validatePolicyName(name);
      if (name === 'root')
        throw new CustosError('ERR_INVALID_REQUEST', 'cannot update the root policy');
      const document = await policyDocumentOf(text);
      const policy = policyFromDocument(name, document, text);
      generation += 1;
      try {
        await storage.write(name, { text, document } satisfies StoredPolicy);
      } finally {
        generation += 1;
        cache.delete(name);
      }
      remember(name, policy);
    },
    async delete(name) {
      if (name === 'root' || name === 'default') {
        throw new CustosError('ERR_INVALID_REQUEST', `cannot delete the ${name} policy`);
      }
      generation += 1;
      try {
        await storage.remove(name);
      } finally {
        generation += 1;
        cache.delete(name);
      }
    },
    async list() {
      const stored = await storage.listPaths('');
      return [...new Set(['default', ...stored, 'root'])].sort();
    },
    async aclFor(names) {
      if (names.includes('root')) return new Acl([], { root: true });
      const policies = await Promise.all(names.map(get));
      return new Acl(policies.filter((p): p is Policy => p !== undefined));
    },
    clear: () => {
      generation += 1;
      cache.clear();
    },
  };
}
