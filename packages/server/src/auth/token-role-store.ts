import { CustosError } from '@custos/core/errors';
import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { TOKENS } from '../storage/layout.js';
import { tokenStorage } from './token-store.js';

/** The token types a role may set (Vault's `token_type`). */
export const ROLE_TOKEN_TYPES = [
  'service',
  'batch',
  'default',
  'default-service',
  'default-batch',
] as const;
export type RoleTokenType = (typeof ROLE_TOKEN_TYPES)[number];

/** A token role (`auth/token/roles/:name`): what tokens created through it may and must be. */
export interface TokenRole {
  allowed_policies: string[];
  disallowed_policies: string[];
  allowed_policies_glob: string[];
  disallowed_policies_glob: string[];
  /** Tokens are orphans (no sudo needed). */
  orphan: boolean;
  /** false: tokens cannot renew. */
  renewable: boolean;
  /** Appended to the tokens' path (`auth/token/create/<role>/<suffix>`). */
  path_suffix: string;
  /** Seconds; 0 = none. */
  token_period: number;
  token_explicit_max_ttl: number;
  token_ttl: number;
  token_type: RoleTokenType;
  token_bound_cidrs: string[];
  token_no_default_policy: boolean;
}

/** A role's defaults (as Vault's). */
export const DEFAULT_TOKEN_ROLE: TokenRole = {
  allowed_policies: [],
  disallowed_policies: [],
  allowed_policies_glob: [],
  disallowed_policies_glob: [],
  orphan: false,
  renewable: true,
  path_suffix: '',
  token_period: 0,
  token_explicit_max_ttl: 0,
  token_ttl: 0,
  token_type: 'default-service',
  token_bound_cidrs: [],
  token_no_default_policy: false,
};

/** Token role names: one spelling, lower case (another case is refused, never folded). */
const ROLE_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/;

/**
 * Throws for a name that is not a token role name (lower case letters, digits, `_` and `-`;
 * no dots, so no `..`).
 *
 * @example
 * ```ts
 * validateTokenRoleName('ci-runner');
 * ```
 */
export function validateTokenRoleName(name: string): string {
  if (!ROLE_NAME.test(name))
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      'token role names are 1-128 characters of a-z 0-9 _ - (lowercase)',
    );
  return name;
}

/** A path suffix: segments of letters, digits, `.`, `_`, `-`, never `.` or `..` alone. */
export function validatePathSuffix(suffix: string): string {
  if (suffix === '') return suffix;
  const segments = suffix.split('/');
  if (
    suffix.length > 256 ||
    segments.some((s) => !/^[A-Za-z0-9._-]+$/.test(s) || s === '.' || s === '..')
  )
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      'path_suffix is segments of A-Z a-z 0-9 . _ - separated by /, without . or ..',
    );
  return suffix;
}

/**
 * Token roles, stored behind the barrier in the token area (`sys/token/role/<name>`).
 *
 * @example
 * ```ts
 * await roles.put('ci', { allowed_policies: ['deploy'], orphan: true });
 * const role = await roles.get('ci');
 * ```
 */
export interface TokenRoles {
  get(name: string): Promise<TokenRole | undefined>;
  /** Creates or updates a role: the given settings over the existing ones (or the defaults). */
  put(name: string, input: Partial<TokenRole>): Promise<void>;
  delete(name: string): Promise<void>;
  /** Every role name, sorted. */
  list(): Promise<string[]>;
}

/**
 * The token role store.
 *
 * @example
 * ```ts
 * const roles = createTokenRoleStore(barrier);
 * ```
 */
export function createTokenRoleStore(barrier: Barrier): TokenRoles {
  const storage = tokenStorage(barrier);
  const ROLE = TOKENS.role;
  return {
    async get(name) {
      validateTokenRoleName(name);
      const stored = await storage.read<TokenRole>(ROLE + name);
      return stored === undefined ? undefined : { ...DEFAULT_TOKEN_ROLE, ...stored.data };
    },
    async put(name, input) {
      validateTokenRoleName(name);
      if (input.path_suffix !== undefined) validatePathSuffix(input.path_suffix);
      await retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const existing = await tx.read<TokenRole>(ROLE + name);
          const role: TokenRole = { ...DEFAULT_TOKEN_ROLE, ...existing?.data, ...input };
          if (existing === undefined) await tx.create(ROLE + name, role);
          else await tx.replace(ROLE + name, role, existing.revision);
        }),
      );
    },
    async delete(name) {
      validateTokenRoleName(name);
      await storage.remove(ROLE + name);
    },
    async list() {
      return (await storage.listPaths(ROLE)).map((p) => p.slice(ROLE.length)).sort();
    },
  };
}
