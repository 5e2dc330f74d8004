import {
  constrains,
  type ParameterConstraints,
  parameterRefusal,
} from './parameter-constraints.js';
import type { Capability, ParameterValues, Policy, PolicyRule } from './policy-parse.js';

/** One policy's part in a merged rule: its name and the capabilities its block(s) give. */
export interface RuleSource {
  readonly policy: string;
  readonly capabilities: readonly Capability[];
}

/** The rules of every policy for one pattern, merged as Vault merges them. */
export interface MergedRule {
  readonly pattern: string;
  readonly capabilities: ReadonlySet<Capability>;
  readonly parameters: ParameterConstraints;
  /** Every policy with a block for this pattern, in the token's order. */
  readonly sources: readonly RuleSource[];
}

interface CompiledRule extends MergedRule {
  readonly segments: readonly string[];
  readonly glob: boolean;
  /** Index of the first `+` or `*` character, or the pattern length. */
  readonly firstWildcard: number;
  readonly plusCount: number;
}

/** What the ACL decided about one operation on one path, and why. */
export interface AclDecision {
  readonly allowed: boolean;
  /** The rule that decided (the most specific matching one); absent when none matched. */
  readonly rule?: MergedRule | undefined;
  /** Why, in a sentence (names patterns, policies and parameter names; never values). */
  readonly reason: string;
}

/** What {@link Acl.decide} needs besides the path and the operation. */
export interface DecideOptions {
  /** The route also needs `sudo` (Vault's root-protected paths). */
  readonly sudo?: boolean | undefined;
  /**
   * The request's parameters (a write's body, a read's query), checked against the rule's
   * parameter constraints for read, create, update and patch, as Vault does.
   */
  readonly data?: unknown;
}

/** The operations whose parameters Vault checks against allowed/denied/required_parameters. */
const PARAMETER_OPERATIONS: ReadonlySet<Capability> = new Set([
  'read',
  'create',
  'update',
  'patch',
]);

/**
 * An access-control list compiled from a token's policies, evaluated as Vault does:
 * - the blocks for the same pattern, in one policy or several, are merged: capabilities are
 *   unioned, a `deny` anywhere leaves only `deny`, parameter constraints are merged (an empty
 *   value list wins over a non-empty one, lists are joined, required names are joined);
 * - among the patterns matching a path, the most specific one decides (Vault's priority rules:
 *   later first wildcard, no trailing `*`, fewer `+` segments, longer, lexicographically larger);
 * - `deny` in the deciding rule refuses everything;
 * - the deciding rule's parameter constraints judge the request's parameters.
 *
 * @example
 * ```ts
 * const acl = new Acl([await parsePolicy('app', 'path "secret/data/app/*" { capabilities = ["read"] }')]);
 * acl.allows('secret/data/app/db', 'read'); // true
 * ```
 */
export class Acl {
  readonly #root: boolean;
  readonly #rules: CompiledRule[];

  constructor(policies: readonly Policy[], options: { root?: boolean } = {}) {
    this.#root = options.root ?? false;
    const byPattern = new Map<string, Merging>();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        const merging = byPattern.get(rule.pattern) ?? newMerging();
        mergeRule(merging, policy.name, rule);
        byPattern.set(rule.pattern, merging);
      }
    }
    this.#rules = [...byPattern].map(([pattern, merged]) => compile(pattern, merged));
  }

  /** Whether this ACL grants every capability on every path (the root policy). */
  get isRoot(): boolean {
    return this.#root;
  }

  /** The capabilities that apply to `path` (empty when nothing matches). */
  capabilities(path: string): ReadonlySet<Capability> {
    if (this.#root) return ALL;
    const best = this.#deciding(path);
    if (best === undefined || best.capabilities.has('deny')) return NONE;
    return best.capabilities;
  }

  /** Every rule whose pattern matches `path`, the deciding (most specific) one first. */
  matching(path: string): MergedRule[] {
    return this.#rules
      .filter((rule) => matches(rule, path))
      .sort((a, b) => (morePrecise(a, b) ? -1 : morePrecise(b, a) ? 1 : 0))
      .map(publicRule);
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
    return this.decide(path, capability, { sudo: needsSudo }).allowed;
  }

  /**
   * Whether `operation` is granted on `path` to a request whose parameters are not Vault's (a
   * Secrets Manager API request): refused where the deciding rule constrains parameters, so a
   * policy's `allowed_parameters` / `denied_parameters` / `required_parameters` are never
   * bypassed through another API.
   */
  allowsWithoutParameters(path: string, operation: Capability): boolean {
    const decision = this.decide(path, operation);
    if (!decision.allowed) return false;
    return !(
      PARAMETER_OPERATIONS.has(operation) &&
      decision.rule !== undefined &&
      constrains(decision.rule.parameters)
    );
  }

  /**
   * Decides `operation` on `path` as Vault does (see the class), with the request's parameters
   * checked when `options.data` is given, and says why.
   */
  decide(path: string, operation: Capability, options: DecideOptions = {}): AclDecision {
    if (this.#root) return { allowed: true, reason: 'the root policy allows everything' };
    const compiled = this.#deciding(path);
    if (compiled === undefined) {
      return { allowed: false, reason: "no rule of the token's policies matches the path" };
    }
    const rule = publicRule(compiled);
    const from = describe(rule);
    if (rule.capabilities.has('deny')) {
      const deniers = rule.sources.filter((s) => s.capabilities.includes('deny'));
      return {
        allowed: false,
        rule,
        reason: `${from}: policy ${deniers.map((s) => `"${s.policy}"`).join(', ')} says deny, which refuses every operation`,
      };
    }
    if (!rule.capabilities.has(operation)) {
      return {
        allowed: false,
        rule,
        reason: `${from} grants ${[...rule.capabilities].join(', ')}, not ${operation}`,
      };
    }
    if (options.sudo === true && !rule.capabilities.has('sudo')) {
      return {
        allowed: false,
        rule,
        reason: `${from} grants ${operation} but the path needs sudo too`,
      };
    }
    if (options.data !== undefined && PARAMETER_OPERATIONS.has(operation)) {
      const refusal = parameterRefusal(rule.parameters, options.data);
      if (refusal !== undefined) return { allowed: false, rule, reason: `${from}: ${refusal}` };
    }
    const granting = rule.sources.filter((s) => s.capabilities.includes(operation));
    const checked = options.data !== undefined && PARAMETER_OPERATIONS.has(operation);
    const constrained = !constrains(rule.parameters)
      ? ''
      : checked
        ? ', and the parameters keep its constraints'
        : PARAMETER_OPERATIONS.has(operation)
          ? '; its parameter constraints were not checked (no parameters given)'
          : '';
    return {
      allowed: true,
      rule,
      reason: `${from} grants ${operation} (from policy ${granting.map((s) => `"${s.policy}"`).join(', ')})${constrained}`,
    };
  }

  #deciding(path: string): CompiledRule | undefined {
    let best: CompiledRule | undefined;
    for (const rule of this.#rules) {
      if (matches(rule, path) && (best === undefined || morePrecise(rule, best))) best = rule;
    }
    return best;
  }
}

function describe(rule: MergedRule): string {
  return `rule "${rule.pattern}"`;
}

function publicRule(rule: CompiledRule): MergedRule {
  const { pattern, capabilities, parameters, sources } = rule;
  return { pattern, capabilities, parameters, sources };
}

/** A pattern's rule while the policies are merged (Vault's `NewACL`). */
interface Merging {
  capabilities: Set<Capability>;
  allowed: Map<string, unknown[]> | undefined;
  denied: Map<string, unknown[]> | undefined;
  required: string[];
  sources: RuleSource[];
}

const newMerging = (): Merging => ({
  capabilities: new Set(),
  allowed: undefined,
  denied: undefined,
  required: [],
  sources: [],
});

function mergeRule(into: Merging, policy: string, rule: PolicyRule): void {
  const source = into.sources.find((s) => s.policy === policy);
  const caps = [...new Set([...(source?.capabilities ?? []), ...rule.capabilities])];
  if (source === undefined) into.sources.push({ policy, capabilities: caps });
  else into.sources[into.sources.indexOf(source)] = { policy, capabilities: caps };
  // A deny already there keeps the rule a deny; a new deny drops everything else.
  if (into.capabilities.has('deny')) return;
  if (rule.capabilities.has('deny')) {
    into.capabilities = new Set(['deny']);
    into.allowed = undefined;
    into.denied = undefined;
    into.required = [];
    return;
  }
  for (const cap of rule.capabilities) into.capabilities.add(cap);
  into.allowed = mergeValues(into.allowed, rule.allowedParameters);
  into.denied = mergeValues(into.denied, rule.deniedParameters);
  for (const name of rule.requiredParameters) {
    if (!into.required.includes(name)) into.required.push(name);
  }
}

/** Vault's merge of two parameter maps: an empty list (any value) wins, lists are joined. */
function mergeValues(
  existing: Map<string, unknown[]> | undefined,
  added: ParameterValues | undefined,
): Map<string, unknown[]> | undefined {
  if (added === undefined || added.size === 0) return existing;
  const merged = new Map(existing ?? []);
  for (const [name, values] of added) {
    const before = merged.get(name);
    if (existing === undefined || before === undefined) merged.set(name, [...values]);
    else if (values.length === 0 || before.length === 0) merged.set(name, []);
    else merged.set(name, [...values, ...before]);
  }
  return merged;
}

function compile(pattern: string, merged: Merging): CompiledRule {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  const plus = pattern.indexOf('+');
  const star = pattern.indexOf('*');
  const candidates = [plus, star].filter((i) => i !== -1);
  return {
    pattern,
    capabilities: merged.capabilities,
    parameters: { allowed: merged.allowed, denied: merged.denied, required: merged.required },
    sources: merged.sources,
    segments: body.split('/'),
    glob,
    firstWildcard: candidates.length > 0 ? Math.min(...candidates) : pattern.length,
    plusCount: body.split('/').filter((s) => s === '+').length,
  };
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

function matches(rule: CompiledRule, path: string): boolean {
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
function matchesBelow(rule: CompiledRule, mount: readonly string[]): boolean {
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
function morePrecise(a: CompiledRule, b: CompiledRule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard > b.firstWildcard;
  if (a.glob !== b.glob) return !a.glob;
  if (a.plusCount !== b.plusCount) return a.plusCount < b.plusCount;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length > b.pattern.length;
  return a.pattern > b.pattern;
}
