import { CustosError } from '@custos/core/errors';
import { policyDocumentOf } from './policy-text.js';

/** Vault's capabilities. `deny` overrides every other capability of the same rule. */
export const CAPABILITIES = [
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * Vault's older `policy = "…"` shorthand and the capabilities each word stands for (Vault's
 * `OldReadPathPolicy` … `OldSudoPathPolicy`; `patch` came later and is in none of them).
 */
export const POLICY_SHORTHAND: Readonly<Record<string, readonly Capability[]>> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

/** Parameter name (lower case) → the values it may (or may not) have; empty: any value. */
export type ParameterValues = ReadonlyMap<string, readonly unknown[]>;

/** One `path "<pattern>" { … }` block. */
export interface PolicyRule {
  readonly pattern: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** `allowed_parameters`: only these parameters (`*`: any other), with these values. */
  readonly allowedParameters?: ParameterValues;
  /** `denied_parameters`: none of these parameters (`*`: none at all) with these values. */
  readonly deniedParameters?: ParameterValues;
  /** `required_parameters`: each must be sent (by its lower-case name). */
  readonly requiredParameters: readonly string[];
}

/** A named policy: its rules and the text it was written as. */
export interface Policy {
  readonly name: string;
  readonly rules: readonly PolicyRule[];
  readonly text: string;
}

const POLICY_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const RULE_KEYS = [
  'capabilities',
  'policy',
  'allowed_parameters',
  'denied_parameters',
  'required_parameters',
];
const UNSUPPORTED_RULE_KEYS = [
  'min_wrapping_ttl',
  'max_wrapping_ttl',
  'control_group',
  'mfa_methods',
  'subscribe_event_types',
];

function invalid(message: string): CustosError {
  return new CustosError('ERR_INVALID_REQUEST', message);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a policy name (lowercase, as Vault stores them). */
export function validatePolicyName(name: string): string {
  if (!POLICY_NAME.test(name)) {
    throw invalid('policy names are 1-128 characters of a-z 0-9 . _ - (lowercase)');
  }
  return name;
}

/**
 * Parses a policy written in HCL, as Vault users write them, or in Vault's JSON form:
 *
 * ```hcl
 * path "secret/data/app/*" {
 *   capabilities       = ["create", "update"]
 *   allowed_parameters = { "data" = [] }
 * }
 * ```
 *
 * @example
 * ```ts
 * const policy = await parsePolicy('app', 'path "secret/data/app/*" { capabilities = ["read"] }');
 * ```
 */
export async function parsePolicy(name: string, text: string): Promise<Policy> {
  validatePolicyName(name);
  return policyFromDocument(name, await policyDocumentOf(text), text);
}

/**
 * A policy from its document (what {@link parsePolicy} read from the text: `{"path": {pattern:
 * rule}}`, a rule being an object or, as HCL blocks are, a list of objects), kept with `text`.
 * Rule options custos does not enforce (wrapping TTLs, control groups, MFA) are refused rather
 * than ignored, so a policy never grants more than its author meant.
 *
 * @example
 * ```ts
 * policyFromDocument('app', { path: { 'secret/*': [{ capabilities: ['read'] }] } }, text);
 * ```
 */
export function policyFromDocument(name: string, document: unknown, text: string): Policy {
  if (!isObject(document)) throw invalid('policy must be an object with "path" rules');
  const extra = Object.keys(document).filter((k) => k !== 'path' && k !== 'name');
  if (extra.length > 0) throw invalid('policy has a top-level field other than "path"');
  const paths = document.path;
  if (!isObject(paths)) {
    throw invalid(
      'policy must have "path" rules, e.g. path "secret/data/*" { capabilities = ["read"] } (HCL) or {"path": {"secret/data/*": {"capabilities": ["read"]}}} (JSON)',
    );
  }
  const rules: PolicyRule[] = [];
  // A rule is named by its place in "path", never by its pattern or values: the policy is one
  // string in the request, HMAC'd in the audit log, and error texts reach the log as they are.
  for (const [index, [pattern, raw]] of Object.entries(paths).entries()) {
    const where = `path rule ${index + 1}`;
    validatePattern(pattern, where);
    const blocks = Array.isArray(raw) ? raw : [raw];
    if (blocks.length === 0) throw invalid(`${where} must be an object with "capabilities"`);
    for (const [block, rule] of blocks.entries()) {
      rules.push(
        parseRule(pattern, rule, blocks.length > 1 ? `${where} (block ${block + 1})` : where),
      );
    }
  }
  return { name, rules, text };
}

function parseRule(pattern: string, raw: unknown, where: string): PolicyRule {
  if (!isObject(raw)) throw invalid(`${where} must be an object with "capabilities"`);
  const unsupported = Object.keys(raw).filter((k) => UNSUPPORTED_RULE_KEYS.includes(k));
  if (unsupported.length > 0) {
    throw invalid(`${where}: ${unsupported.join(', ')} is not supported by custos`);
  }
  if (Object.keys(raw).some((k) => !RULE_KEYS.includes(k))) {
    throw invalid(`${where} has a field other than ${RULE_KEYS.map((k) => `"${k}"`).join(', ')}`);
  }
  const capabilities = new Set<Capability>();
  if (raw.capabilities !== undefined) {
    if (!Array.isArray(raw.capabilities)) throw invalid(`${where}: "capabilities" must be a list`);
    for (const cap of raw.capabilities) {
      if (!(CAPABILITIES as readonly unknown[]).includes(cap)) {
        throw invalid(`${where}: unknown capability (use ${CAPABILITIES.join(', ')})`);
      }
      capabilities.add(cap as Capability);
    }
  }
  if (raw.policy !== undefined) {
    const word = raw.policy;
    if (typeof word !== 'string' || !Object.hasOwn(POLICY_SHORTHAND, word)) {
      throw invalid(
        `${where}: "policy" must be one of ${Object.keys(POLICY_SHORTHAND).join(', ')}`,
      );
    }
    for (const cap of POLICY_SHORTHAND[word] ?? []) capabilities.add(cap);
  }
  if (capabilities.size === 0) {
    throw invalid(`${where} needs a non-empty "capabilities" list (or "policy")`);
  }
  const allowedParameters = parameterValues(raw.allowed_parameters, 'allowed_parameters', where);
  const deniedParameters = parameterValues(raw.denied_parameters, 'denied_parameters', where);
  const requiredParameters = requiredList(raw.required_parameters, where);
  // As in Vault, deny stands alone: it refuses every operation, whatever else the rule says.
  if (capabilities.has('deny')) {
    return { pattern, capabilities: new Set(['deny']), requiredParameters: [] };
  }
  return {
    pattern,
    capabilities,
    ...(allowedParameters === undefined ? {} : { allowedParameters }),
    ...(deniedParameters === undefined ? {} : { deniedParameters }),
    requiredParameters,
  };
}

/** `allowed_parameters` / `denied_parameters`: names lower-cased (as Vault), values lists. */
function parameterValues(raw: unknown, field: string, where: string): ParameterValues | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw invalid(`${where}: "${field}" must map parameter names to lists`);
  const values = new Map<string, readonly unknown[]>();
  for (const [parameter, list] of Object.entries(raw)) {
    if (!Array.isArray(list)) {
      throw invalid(`${where}: each parameter of "${field}" needs a list of values ([] for any)`);
    }
    const key = parameter.toLowerCase();
    if (values.has(key)) {
      throw invalid(`${where}: "${field}" names a parameter twice (names are not case-sensitive)`);
    }
    values.set(key, list);
  }
  return values;
}

function requiredList(raw: unknown, where: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((p) => typeof p !== 'string' || p === '')) {
    throw invalid(`${where}: "required_parameters" must be a list of parameter names`);
  }
  // Vault looks a required parameter up by its lower-case name.
  return [...new Set((raw as string[]).map((p) => p.toLowerCase()))];
}

function validatePattern(pattern: string, where: string): void {
  if (pattern.length === 0 || pattern.length > 512) {
    throw invalid(`${where}: path patterns are 1-512 characters`);
  }
  if (pattern.startsWith('/')) throw invalid(`${where}: the path pattern must not start with "/"`);
  const star = pattern.indexOf('*');
  if (star !== -1 && star !== pattern.length - 1) {
    throw invalid(`${where}: "*" is allowed only at the end of the path pattern`);
  }
  for (const segment of pattern.replace(/\*$/, '').split('/')) {
    if (segment.includes('+') && segment !== '+') {
      throw invalid(`${where}: "+" must be a whole path segment`);
    }
  }
}
