import { CustosError } from '@custos/core/errors';

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

/** One `path "<pattern>" { capabilities = [...] }` rule. */
export interface PolicyRule {
  readonly pattern: string;
  readonly capabilities: ReadonlySet<Capability>;
}

/** A named policy: its rules and the text it was written as. */
export interface Policy {
  readonly name: string;
  readonly rules: readonly PolicyRule[];
  readonly text: string;
}

const POLICY_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const UNSUPPORTED_RULE_KEYS = [
  'allowed_parameters',
  'denied_parameters',
  'required_parameters',
  'min_wrapping_ttl',
  'max_wrapping_ttl',
  'control_group',
];

function invalid(message: string): CustosError {
  return new CustosError('ERR_INVALID_REQUEST', message);
}

/** Checks a policy name (lowercase, as Vault stores them). */
export function validatePolicyName(name: string): string {
  if (!POLICY_NAME.test(name)) {
    throw invalid('policy names are 1-128 characters of a-z 0-9 . _ - (lowercase)');
  }
  return name;
}

/**
 * Parses a policy in Vault's JSON form:
 * `{"path": {"secret/data/app/*": {"capabilities": ["read", "list"]}}}`.
 * Rule options custos does not enforce (parameter constraints, wrapping TTLs) are refused rather
 * than ignored, so a policy never grants more than its author meant.
 *
 * @example
 * ```ts
 * const policy = parsePolicy('app', '{"path":{"secret/data/app/*":{"capabilities":["read"]}}}');
 * ```
 */
export function parsePolicy(name: string, text: string): Policy {
  validatePolicyName(name);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw invalid(
      'policy must be Vault\'s JSON form, e.g. {"path": {"secret/data/*": {"capabilities": ["read"]}}} (HCL is not supported)',
    );
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw invalid('policy must be a JSON object with a "path" object');
  }
  const paths = (document as Record<string, unknown>).path;
  if (typeof paths !== 'object' || paths === null || Array.isArray(paths)) {
    throw invalid('policy must have a "path" object mapping path patterns to rules');
  }
  const rules: PolicyRule[] = [];
  // A rule is named by its place in "path", never by its pattern or values: the policy is one
  // string in the request, HMAC'd in the audit log, and error texts reach the log as they are.
  for (const [index, [pattern, rawRule]] of Object.entries(paths).entries()) {
    const where = `path rule ${index + 1}`;
    validatePattern(pattern, where);
    if (typeof rawRule !== 'object' || rawRule === null || Array.isArray(rawRule)) {
      throw invalid(`${where} must be an object with "capabilities"`);
    }
    const rule = rawRule as Record<string, unknown>;
    const unsupported = Object.keys(rule).filter((k) => UNSUPPORTED_RULE_KEYS.includes(k));
    if (unsupported.length > 0) {
      throw invalid(`${where}: ${unsupported.join(', ')} is not supported by custos`);
    }
    if (Object.keys(rule).some((k) => k !== 'capabilities'))
      throw invalid(`${where} has a field other than "capabilities"`);
    const caps = rule.capabilities;
    if (!Array.isArray(caps) || caps.length === 0) {
      throw invalid(`${where} needs a non-empty "capabilities" list`);
    }
    for (const cap of caps) {
      if (!(CAPABILITIES as readonly unknown[]).includes(cap)) {
        throw invalid(`${where}: unknown capability (use ${CAPABILITIES.join(', ')})`);
      }
    }
    rules.push({ pattern, capabilities: new Set(caps as Capability[]) });
  }
  return { name, rules, text };
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
