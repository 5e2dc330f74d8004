import type { Capability, Policy } from './policy-parse.js';

interface MergedRule {
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly glob: boolean;
  readonly capabilities: Set<Capability>;
  /** Index of the first `+` or `*` character, or the pattern length. */
  readonly firstWildcard: number;
  readonly plusCount: number;
}

/**
 * An access-control list compiled from a token's policies, evaluated as Vault does:
 * - rules for the same pattern in several policies are merged (capabilities unioned);
 * - among the patterns matching a path, the most specific one decides (Vault's priority rules:
 *   later first wildcard, no trailing `*`, fewer `+` segments, longer, lexicographically larger);
 * - `deny` in the deciding rule refuses everything.
 *
 * @example
 * ```ts
 * const acl = new Acl([parsePolicy('app', text)]);
 * acl.allows('secret/data/app/db', 'read');
 * ```
 */
export class Acl {
  readonly #root: boolean;
  readonly #rules: MergedRule[];

  constructor(policies: readonly Policy[], options: { root?: boolean } = {}) {
    this.#root = options.root ?? false;
    const byPattern = new Map<string, Set<Capability>>();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        const caps = byPattern.get(rule.pattern) ?? new Set<Capability>();
        for (const cap of rule.capabilities) caps.add(cap);
        byPattern.set(rule.pattern, caps);
      }
    }
    this.#rules = [...byPattern].map(([pattern, capabilities]) => {
      const glob = pattern.endsWith('*');
      const body = glob ? pattern.slice(0, -1) : pattern;
      const plus = pattern.indexOf('+');
      const star = pattern.indexOf('*');
      const candidates = [plus, star].filter((i) => i !== -1);
      return {
        pattern,
        segments: body.split('/'),
        glob,
        capabilities,
        firstWildcard: candidates.length > 0 ? Math.min(...candidates) : pattern.length,
        plusCount: body.split('/').filter((s) => s === '+').length,
      };
    });
  }

  /** Whether this ACL grants every capability on every path (the root policy). */
  get isRoot(): boolean {
    return this.#root;
  }

  /** The capabilities that apply to `path` (empty when nothing matches). */
  capabilities(path: string): ReadonlySet<Capability> {
    if (this.#root) return ALL;
    let best: MergedRule | undefined;
    for (const rule of this.#rules) {
      if (matches(rule, path) && (best === undefined || morePrecise(rule, best))) best = rule;
    }
    if (best === undefined || best.capabilities.has('deny')) return NONE;
    return best.capabilities;
  }

  /**
   * Whether some rule grants a capability (other than `deny`) on the mount `mountPath`
   * (`secret/`) or anywhere below it: Vault's test before it describes a mount to a token
   * (`sys/internal/ui/mounts/:path`), so a token learns only of mounts it can use.
   */
  reachesUnder(mountPath: string): boolean {
    if (this.#root) return true;
    const mount = mountPath.replace(/\/+$/, '').split('/');
    return this.#rules.some(
      (rule) =>
        rule.capabilities.size > 0 && !rule.capabilities.has('deny') && matchesBelow(rule, mount),
    );
  }

  /** Whether `capability` (and `sudo`, when `needsSudo`) is granted on `path`. */
  allows(path: string, capability: Capability, needsSudo = false): boolean {
    const caps = this.capabilities(path);
    return caps.has(capability) && (!needsSudo || caps.has('sudo'));
  }
}

const ALL: ReadonlySet<Capability> = new Set([
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
]);
const NONE: ReadonlySet<Capability> = new Set();

function matches(rule: MergedRule, path: string): boolean {
  const parts = path.split('/');
  const { segments, glob } = rule;
  if (!glob) {
    if (parts.length !== segments.length) return false;
    return segments.every((s, i) => s === '+' || s === parts[i]);
  }
  // With a trailing glob, every segment but the last must match exactly (or by '+'); the last
  // is a prefix of the path's segment, and the path may continue below it.
  if (parts.length < segments.length) return false;
  const last = segments.length - 1;
  for (let i = 0; i < last; i++) {
    if (segments[i] !== '+' && segments[i] !== parts[i]) return false;
  }
  const tail = segments[last] as string;
  return tail === '+'
    ? (parts[last] as string).length > 0
    : (parts[last] as string).startsWith(tail);
}

/** Whether `rule` matches some path below the mount whose segments are `mount`. */
function matchesBelow(rule: MergedRule, mount: readonly string[]): boolean {
  const { segments, glob } = rule;
  for (let i = 0; i < mount.length; i++) {
    if (i >= segments.length) return false;
    const segment = segments[i] as string;
    // A trailing glob's last segment is a prefix: `secr*` and `*` reach into `secret/`.
    if (glob && i === segments.length - 1) return (mount[i] as string).startsWith(segment);
    if (segment !== '+' && segment !== mount[i]) return false;
  }
  // Every mount segment matched; the rule must go on below it (`secret/…`, not `secret`).
  return segments.length > mount.length;
}

/** Vault's priority rules: true when `a` is more specific than `b`. */
function morePrecise(a: MergedRule, b: MergedRule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard > b.firstWildcard;
  if (a.glob !== b.glob) return !a.glob;
  if (a.plusCount !== b.plusCount) return a.plusCount < b.plusCount;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length > b.pattern.length;
  return a.pattern > b.pattern;
}
