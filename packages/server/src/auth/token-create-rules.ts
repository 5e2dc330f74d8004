import { CustosError } from '@custos/core/errors';
import { validatePolicyName } from '../policy/policy-parse.js';
import type { TokenEntry } from './token-entry.js';
import type { TokenRole } from './token-role-store.js';
import type { CreateTokenInput } from './token-store.js';

/** What a token creation request asks for (`auth/token/create*`), as read from its fields. */
export interface CreateRequest {
  readonly policies: readonly string[];
  readonly noDefaultPolicy: boolean;
  readonly noParent: boolean;
  readonly ttl?: number | undefined;
  readonly explicitMaxTtl?: number | undefined;
  readonly period?: number | undefined;
  readonly renewable: boolean;
  readonly numUses: number;
  readonly meta: Record<string, string>;
  /** `service`, `batch`, or '' (the role's default, else service). */
  readonly type: string;
  readonly displayName?: string | undefined;
  readonly id?: string | undefined;
}

/** Who asks, and through which route. */
export interface CreateContext {
  readonly parent: TokenEntry;
  /** The caller has sudo on the request's path (Vault's `isSudo`). */
  readonly sudo: boolean;
  /** The route is `create-orphan`. */
  readonly orphanRoute: boolean;
  /** The role named in `create/:role_name`, with its name. */
  readonly role?: { readonly name: string; readonly settings: TokenRole } | undefined;
}

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** `*` matches any run of characters (as Vault's policy globs); nothing else is special. */
const globMatches = (pattern: string, name: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(name);

const matchesAny = (exact: readonly string[], globs: readonly string[], name: string) =>
  exact.includes(name) || globs.some((g) => globMatches(g, name));

/** The token type: a role's fixed type wins; a request may choose under a `default-*` type. */
function typeOf(request: CreateRequest, role: TokenRole | undefined): 'service' | 'batch' {
  if (!['', 'service', 'batch'].includes(request.type))
    throw invalid('type must be "service" or "batch"');
  const roleType = role?.token_type ?? 'default-service';
  if (roleType === 'service' || roleType === 'batch') {
    if (request.type !== '' && request.type !== roleType)
      throw invalid(`the role only creates ${roleType} tokens`);
    return roleType;
  }
  if (request.type !== '') return request.type as 'service' | 'batch';
  return roleType === 'default-batch' ? 'batch' : 'service';
}

/**
 * The policies of the new token (Vault's rules): through a role with allowed policies, any of
 * them (all of them when none are asked for); otherwise a subset of the parent's, unless the
 * caller is root or has sudo. A role's disallowed policies are refused either way; `root` only
 * ever from a root parent. Names have one spelling: another case is refused, never folded.
 */
function policiesOf(request: CreateRequest, context: CreateContext): string[] {
  const { parent, role } = context;
  const settings = role?.settings;
  for (const name of request.policies) validatePolicyName(name);
  const isRootParent = parent.policies.includes('root');
  const allowedByRole =
    settings !== undefined &&
    (settings.allowed_policies.length > 0 || settings.allowed_policies_glob.length > 0);
  let policies: string[];
  if (allowedByRole) {
    policies =
      request.policies.length > 0
        ? [...request.policies]
        : settings.allowed_policies.filter((p) => p !== 'default');
    const refused = policies.filter(
      (p) =>
        p !== 'default' &&
        !matchesAny(settings.allowed_policies, settings.allowed_policies_glob, p),
    );
    if (refused.length > 0)
      throw invalid("token policies must be a subset of the role's allowed policies");
  } else {
    policies = request.policies.length > 0 ? [...request.policies] : [...parent.policies];
    if (!isRootParent && !context.sudo && !policies.every((p) => parent.policies.includes(p)))
      throw invalid("child policies must be a subset of the parent's policies");
  }
  if (policies.includes('root') && !isRootParent)
    throw new CustosError('ERR_PERMISSION_DENIED', 'only a root token may create a root token');
  const noDefault = request.noDefaultPolicy || settings?.token_no_default_policy === true;
  if (!noDefault && !policies.includes('root')) policies = [...new Set([...policies, 'default'])];
  if (settings !== undefined) {
    const disallowed = (p: string) =>
      matchesAny(settings.disallowed_policies, settings.disallowed_policies_glob, p);
    // `default` added by the server is dropped rather than refused, as Vault.
    if (request.policies.some(disallowed)) {
      throw invalid('a token policy asked for is disallowed by the role');
    }
    policies = policies.filter((p) => !disallowed(p));
  }
  return policies;
}

/**
 * Applies Vault's token creation rules to a request and returns what the token store is to
 * create, or throws a typed refusal: orphans need sudo (or an orphan role); a period needs sudo
 * (or the role's `token_period`); a role's explicit maximum caps the request's; a role that is
 * not renewable makes tokens that are not; batch tokens are neither renewable nor use-limited.
 *
 * @example
 * ```ts
 * const input = creationInput(request, { parent, sudo: false, orphanRoute: false });
 * await tokens.create(input);
 * ```
 */
export function creationInput(request: CreateRequest, context: CreateContext): CreateTokenInput {
  const { parent, role } = context;
  const settings = role?.settings;
  const isRootParent = parent.policies.includes('root');
  const privileged = isRootParent || context.sudo;
  const orphan = settings?.orphan === true || request.noParent || context.orphanRoute;
  if (orphan && settings?.orphan !== true && !privileged)
    throw new CustosError(
      'ERR_PERMISSION_DENIED',
      'root or sudo privileges required to create orphan token',
    );
  if (request.id !== undefined && !isRootParent)
    throw new CustosError('ERR_PERMISSION_DENIED', 'only root tokens may choose a token id');
  if ((request.period ?? 0) > 0 && !privileged && (settings?.token_period ?? 0) === 0)
    throw new CustosError(
      'ERR_PERMISSION_DENIED',
      'root or sudo privileges required to create periodic token',
    );
  const type = typeOf(request, settings);
  const policies = policiesOf(request, context);
  const rolePeriod = settings?.token_period ?? 0;
  const period = rolePeriod > 0 ? rolePeriod : (request.period ?? 0);
  const roleMax = settings?.token_explicit_max_ttl ?? 0;
  const asked = request.explicitMaxTtl ?? 0;
  const explicitMax = roleMax > 0 && (asked === 0 || roleMax < asked) ? roleMax : asked;
  const ttl =
    request.ttl ??
    (settings !== undefined && settings.token_ttl > 0 ? settings.token_ttl : undefined);
  if (type === 'batch' && request.numUses !== 0)
    throw invalid('batch tokens cannot be use-limited (num_uses)');
  if (type === 'batch' && period > 0) throw invalid('batch tokens cannot be periodic');
  const path =
    role === undefined
      ? context.orphanRoute
        ? 'auth/token/create-orphan'
        : 'auth/token/create'
      : `auth/token/create/${role.name}${settings?.path_suffix ? `/${settings.path_suffix}` : ''}`;
  return {
    policies,
    ...(ttl === undefined ? {} : { ttlSeconds: ttl }),
    ...(explicitMax > 0 ? { explicitMaxTtlSeconds: explicitMax } : {}),
    ...(period > 0 ? { periodSeconds: period } : {}),
    renewable: type === 'service' && request.renewable && settings?.renewable !== false,
    numUses: request.numUses,
    displayName: request.displayName === undefined ? 'token' : `token-${request.displayName}`,
    meta: request.meta,
    parent,
    orphan,
    path,
    type,
    ...(role === undefined ? {} : { role: role.name }),
    ...(settings !== undefined && settings.token_bound_cidrs.length > 0
      ? { boundCidrs: settings.token_bound_cidrs }
      : {}),
    ...(request.id === undefined ? {} : { id: request.id }),
  };
}

/** Thrown where a caller names a role that does not exist (Vault's words). */
export const unknownRole = (): CustosError => invalid('unknown role');
