import { CustosError } from '@custos/core/errors';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView, isViewKey } from '../barrier/barrier-view.js';
import type { CacheCounter } from '../metrics/cache-counter.js';
import { createFeedCache } from '../storage/feed-cache.js';
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
   * Most policies (and misses) kept in the cache; the oldest goes first. A bound, because a
   * caller chooses the names looked up (a write to `sys/policies/acl/<any name>`).
   */
  readonly cacheLimit?: number;
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
  // Parsed policies (and misses), kept until the change feed reports a write of them on any
  // node; read from storage on every use while the feed is not live.
  const cache = createFeedCache<{ policy: Policy | undefined }>(storage.changes, {
    prefix: '',
    limit: options.cacheLimit ?? 1000,
  });

  const get = async (name: string): Promise<Policy | undefined> => {
    const hit = cache.get(name);
    if (hit !== undefined) {
      options.cacheCounter?.hit();
      return hit.policy;
    }
    options.cacheCounter?.miss();
    const stamp = cache.stamp();
    // A name no storage key can hold (a token may carry any policy name) names no policy.
    const entry = isViewKey(name) ? await storage.read<StoredPolicy>(name) : undefined;
    const stored = entry?.data;
    let policy =
      stored === undefined
        ? undefined
        : policyFromDocument(name, stored.document ?? JSON.parse(stored.text), stored.text);
    if (policy === undefined && name === 'default')
      policy = policyFromDocument('default', DEFAULT_POLICY_DOCUMENT, DEFAULT_POLICY_TEXT);
    cache.fill(name, { policy }, stamp);
    return policy;
  };

  return {
    get,
    async put(name, text) {
      validatePolicyName(name);
      if (name === 'root')
        throw new CustosError('ERR_INVALID_REQUEST', 'cannot update the root policy');
      const document = await policyDocumentOf(text);
      policyFromDocument(name, document, text);
      // The feed drops the cached policy here and on every node before this returns.
      await storage.write(name, { text, document } satisfies StoredPolicy);
    },
    async delete(name) {
      if (name === 'root' || name === 'default') {
        throw new CustosError('ERR_INVALID_REQUEST', `cannot delete the ${name} policy`);
      }
      await storage.remove(name);
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
    clear: () => cache.clear(),
  };
}
