import { type KeyObject, randomUUID, timingSafeEqual } from 'node:crypto';
import { hmacSha256 } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';
import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { isServerError } from '../errors.js';
import { blocksWithin, cidrList } from '../http/client-address.js';
import { validatePolicyName } from '../policy/policy-parse.js';
import { APPROLE } from '../storage/layout.js';
import type { MountEntry } from '../sys/mount-table.js';

/** A role's settings (Vault's AppRole fields custos supports). */
export interface ApproleRole {
  role_id: string;
  token_policies: string[];
  /** Seconds; 0 = the token store's default. */
  token_ttl: number;
  token_max_ttl: number;
  token_num_uses: number;
  /** Uses per secret ID; 0 = unlimited. */
  secret_id_num_uses: number;
  /** Seconds a secret ID lives; 0 = no expiry. */
  secret_id_ttl: number;
  bind_secret_id: boolean;
  /** Client CIDR blocks a secret ID may log in from (empty: anywhere). */
  secret_id_bound_cidrs: string[];
  /** Client CIDR blocks the issued tokens may be used from (empty: anywhere). */
  token_bound_cidrs: string[];
  /** Seconds; 0 = tokens are not periodic. */
  token_period: number;
  /** `service`, `batch` or `default` (service). */
  token_type: 'service' | 'batch' | 'default';
}

/** A role's defaults. */
const DEFAULT_ROLE: Omit<ApproleRole, 'role_id'> = {
  token_policies: [],
  token_ttl: 0,
  token_max_ttl: 0,
  token_num_uses: 0,
  secret_id_num_uses: 0,
  secret_id_ttl: 0,
  bind_secret_id: true,
  secret_id_bound_cidrs: [],
  token_bound_cidrs: [],
  token_period: 0,
  token_type: 'default',
};

interface SecretIdEntry {
  accessor: string;
  /** Remaining uses; 0 = unlimited. */
  uses_left: number;
  /** The uses and TTL (seconds) it was issued with. */
  num_uses?: number;
  ttl?: number;
  /** Unix ms; 0 = never. */
  expires_at: number;
  created_at: number;
  metadata: Record<string, string>;
  /** Client CIDR blocks it may log in from (within the role's), and its tokens' blocks. */
  cidr_list?: string[];
  token_bound_cidrs?: string[];
}

/** What a secret ID is issued with beside the role's settings (Vault's secret-id fields). */
export interface SecretIdOptions {
  readonly metadata: Record<string, string>;
  /** A chosen value (`custom-secret-id`); a random UUID otherwise. */
  readonly secretId?: string;
  readonly cidrList?: readonly string[];
  readonly tokenBoundCidrs?: readonly string[];
  /** Uses and TTL (seconds): no more than the role's (when the role limits them). */
  readonly numUses?: number;
  readonly ttl?: number;
}

/** A secret ID's properties, as `secret-id/lookup` and `secret-id-accessor/lookup` answer. */
export interface SecretIdInfo {
  readonly secret_id_accessor: string;
  readonly secret_id_num_uses: number;
  readonly secret_id_ttl: number;
  readonly creation_time: string;
  readonly expiration_time: string;
  readonly last_updated_time: string;
  readonly metadata: Record<string, string>;
  readonly cidr_list: string[];
  readonly token_bound_cidrs: string[];
}

/** What a login yields: the role and the CIDR blocks its token is bound to. */
export interface ApproleLogin {
  readonly name: string;
  readonly role: ApproleRole;
  readonly tokenBoundCidrs: readonly string[];
}

const ROLE = APPROLE.role;
const ROLE_ID = APPROLE.roleId;
/** Vault's refusal of a role_id another role has. */
const ROLE_ID_IN_USE = 'role_id already in use';
const SECRET_ID = APPROLE.secretId;
const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A role must constrain who may log in with its role ID: a secret ID, or CIDR blocks (for the
 * login or for the tokens). Vault likewise refuses a role with no constraint at all.
 */
const UNCONSTRAINED_ROLE =
  'a role needs a login constraint: bind_secret_id, secret_id_bound_cidrs or token_bound_cidrs';
const isConstrained = (role: ApproleRole) =>
  role.bind_secret_id ||
  (role.secret_id_bound_cidrs ?? []).length > 0 ||
  (role.token_bound_cidrs ?? []).length > 0;
/** Refuses blocks of a secret ID that reach outside its role's (when the role has any). */
function requireWithin(inner: readonly string[], outer: readonly string[], field: string) {
  if (outer.length > 0 && !blocksWithin(inner, outer))
    throw new CustosError('ERR_INVALID_REQUEST', `${field} must be within the role's blocks`);
}

/** The same message whatever was wrong, so login failures reveal nothing. */
const invalidLogin = () => new CustosError('ERR_INVALID_REQUEST', 'invalid role_id or secret_id');

/** A new secret ID, as `role/:name/secret-id` answers (shown once). */
export interface IssuedSecretId {
  readonly secret_id: string;
  readonly secret_id_accessor: string;
  readonly secret_id_ttl: number;
  readonly secret_id_num_uses: number;
}

/**
 * AppRole: roles, their role IDs and secret IDs, and login. Role IDs and secret IDs are
 * stored by keyed hash only.
 *
 * @example
 * ```ts
 * await approles.putRole('ci', { token_policies: ['deploy'] });
 * const { secret_id } = await approles.createSecretId('ci', { metadata: {} });
 * ```
 */
export interface Approles {
  /** The role, or undefined when there is none. */
  getRole(name: string): Promise<ApproleRole | undefined>;
  /** Creates or updates a role with the given settings (a new role gets a role ID). */
  putRole(name: string, input: Partial<ApproleRole>): Promise<void>;
  /** Updates one or more settings of an existing role (404 when there is none). */
  updateRole(name: string, input: Partial<ApproleRole>): Promise<void>;
  /** Deletes a role with its role ID and every secret ID. */
  deleteRole(name: string): Promise<void>;
  /** Every role name, sorted. */
  listRoles(): Promise<string[]>;
  /** Issues a secret ID for the role (a chosen one with `options.secretId`). */
  createSecretId(name: string, options: SecretIdOptions): Promise<IssuedSecretId>;
  /** The accessors of the role's live secret IDs, sorted. */
  listSecretIds(name: string): Promise<string[]>;
  /** A secret ID's properties, by its value or its accessor; undefined when unknown. */
  lookupSecretId(
    name: string,
    by: { secretId: string } | { accessor: string },
  ): Promise<SecretIdInfo | undefined>;
  /** Destroys a secret ID by its value or accessor (no-op when unknown). */
  destroySecretId(name: string, by: { secretId: string } | { accessor: string }): Promise<void>;
  /**
   * Checks role ID, secret ID (where the role binds one) and the client address, spends one
   * use, and returns the role to issue a token for.
   */
  login(
    roleId: unknown,
    secretId: unknown,
    clientAddress: string | undefined,
  ): Promise<ApproleLogin>;
}

/** The AppRole store of the auth mount a request was admitted for (routes take `:mount`). */
export type ApprolesOf = (request: FastifyRequest) => Approles;

/**
 * The AppRole store of each AppRole mount, built on first use over the mount's storage area
 * (`known`: stores built already, by area).
 *
 * @example
 * ```ts
 * const approleOf = approleMounts(barrier, tokens.hmacKey, clock, { [APPROLE.prefix]: approles });
 * await approleOf(mount).listRoles();
 * ```
 */
export function approleMounts(
  barrier: Barrier,
  hmacKey: () => Promise<KeyObject>,
  now: () => number,
  known: Readonly<Record<string, Approles>> = {},
): (mount: MountEntry) => Approles {
  const stores = new Map<string, Approles>(Object.entries(known));
  return (mount) => {
    if (mount.storage === null) throw new Error(`mount ${mount.path} has no storage area`);
    let store = stores.get(mount.storage);
    if (store === undefined) {
      store = approleStoreOn(barrierView(barrier, mount.storage), hmacKey, now);
      stores.set(mount.storage, store);
    }
    return store;
  };
}

/**
 * AppRole for machines: a role has a role ID (like a user name) and issues secret IDs (like
 * passwords, with use and TTL limits); role ID + secret ID log in for a token with the role's
 * policies. Secret IDs are stored only as keyed hashes; uses are spent under a revision check,
 * so concurrent logins cannot overspend a limited secret ID.
 *
 * @example
 * ```ts
 * await approles.putRole('ci', { token_policies: ['deploy'], secret_id_num_uses: 1 });
 * const { secret_id } = await approles.createSecretId('ci', { metadata: {} });
 * ```
 */
export function createApproleStore(
  barrier: Barrier,
  hmacKey: () => Promise<KeyObject>,
  now: () => number = Date.now,
): Approles {
  // The AppRole area of storage, and nothing else (keys are relative to it).
  return approleStoreOn(barrierView(barrier, APPROLE.prefix), hmacKey, now);
}

/**
 * AppRole on `storage`, the barrier already narrowed to one auth mount's area (an AppRole
 * enabled through `sys/auth` keeps its roles under `mount/<uuid>/`).
 *
 * @example
 * ```ts
 * const approles = approleStoreOn(barrierView(barrier, mount.storage), tokens.hmacKey);
 * ```
 */
export function approleStoreOn(
  storage: Barrier,
  hmacKey: () => Promise<KeyObject>,
  now: () => number = Date.now,
): Approles {
  const hash = async (value: string) => hmacSha256(await hmacKey(), value).toString('hex');

  const getRole = async (name: string) => {
    if (!ROLE_NAME.test(name)) return undefined;
    const stored = (await storage.read<ApproleRole>(ROLE + name))?.data;
    return stored === undefined ? undefined : { ...DEFAULT_ROLE, ...stored };
  };
  const requireRole = async (name: string) => {
    const role = await getRole(name);
    if (role === undefined) throw new CustosError('ERR_NOT_FOUND', `role ${name} does not exist`);
    return role;
  };

  const writeRole = async (name: string, input: Partial<ApproleRole>, mustExist: boolean) => {
    if (!ROLE_NAME.test(name))
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        'role names are 1-128 characters of A-Z a-z 0-9 . _ -',
      );
    // Policy names have one spelling (lower case): `Root` or `Admin` is refused, never folded.
    for (const policy of input.token_policies ?? []) validatePolicyName(policy);
    if (input.secret_id_bound_cidrs !== undefined)
      cidrList(input.secret_id_bound_cidrs, 'secret_id_bound_cidrs');
    if (input.token_bound_cidrs !== undefined)
      cidrList(input.token_bound_cidrs, 'token_bound_cidrs');
    await retryOnConflict(() =>
      storage.transaction(async (tx) => {
        const existing = await tx.read<ApproleRole>(ROLE + name);
        if (existing === undefined && mustExist)
          throw new CustosError('ERR_NOT_FOUND', `role ${name} does not exist`);
        const role: ApproleRole = {
          role_id: existing?.data.role_id ?? randomUUID(),
          ...DEFAULT_ROLE,
          ...existing?.data,
          ...input,
        };
        if (!isConstrained(role)) throw new CustosError('ERR_INVALID_REQUEST', UNCONSTRAINED_ROLE);
        const claimRoleId = async () => {
          const link = ROLE_ID + (await hash(role.role_id));
          // Another role's role_id is refused by name (Vault's words), never by storage path;
          // a race to the same one ends here on the retry.
          if ((await tx.revision(link)) !== undefined)
            throw new CustosError('ERR_INVALID_REQUEST', ROLE_ID_IN_USE);
          await tx.create(link, { role: name });
        };
        if (input.role_id !== undefined && input.role_id !== existing?.data.role_id) {
          if (existing !== undefined)
            await tx.remove(ROLE_ID + (await hash(existing.data.role_id)));
          await claimRoleId();
        } else if (existing === undefined) {
          await claimRoleId();
        }
        if (existing === undefined) await tx.create(ROLE + name, role);
        else await tx.replace(ROLE + name, role, existing.revision);
      }),
    );
  };

  /** The stored secret IDs of a role, each with its path. */
  const secretIdsOf = async (name: string) => {
    const found: { path: string; entry: SecretIdEntry }[] = [];
    for (const path of await storage.listPaths(`${SECRET_ID}${name}/`)) {
      const stored = await storage.read<SecretIdEntry>(path);
      if (stored !== undefined) found.push({ path, entry: stored.data });
    }
    return found;
  };

  /** The path and entry of a secret ID named by value or accessor. */
  const findSecretId = async (name: string, by: { secretId: string } | { accessor: string }) => {
    if (!ROLE_NAME.test(name)) return undefined;
    if ('secretId' in by) {
      if (typeof by.secretId !== 'string' || by.secretId.length === 0 || by.secretId.length > 256)
        return undefined;
      const path = `${SECRET_ID}${name}/${await hash(by.secretId)}`;
      const stored = await storage.read<SecretIdEntry>(path);
      return stored === undefined ? undefined : { path, entry: stored.data };
    }
    // Accessors are compared in constant time: they grant lookup and destruction.
    const wanted = Buffer.from(String(by.accessor));
    return (await secretIdsOf(name)).find(({ entry }) => {
      const have = Buffer.from(entry.accessor);
      return have.length === wanted.length && timingSafeEqual(have, wanted);
    });
  };

  const expired = (entry: SecretIdEntry) => entry.expires_at !== 0 && entry.expires_at <= now();

  return {
    getRole,
    putRole: (name, input) => writeRole(name, input, false),
    updateRole: (name, input) => writeRole(name, input, true),
    async deleteRole(name: string): Promise<void> {
      const role = await getRole(name);
      if (role === undefined) return;
      for (const path of await storage.listPaths(`${SECRET_ID}${name}/`))
        await storage.remove(path);
      await storage.transaction(async (tx) => {
        await tx.remove(ROLE_ID + (await hash(role.role_id)));
        await tx.remove(ROLE + name);
      });
    },
    async listRoles(): Promise<string[]> {
      return (await storage.listPaths(ROLE)).map((p) => p.slice(ROLE.length));
    },
    async createSecretId(name: string, options: SecretIdOptions): Promise<IssuedSecretId> {
      const role = await requireRole(name);
      const secretId = options.secretId ?? randomUUID();
      if (secretId.length === 0 || secretId.length > 256)
        throw new CustosError('ERR_INVALID_REQUEST', 'secret_id must be 1 to 256 characters');
      const cidrs = [...(options.cidrList ?? [])];
      const tokenCidrs = [...(options.tokenBoundCidrs ?? [])];
      cidrList(cidrs, 'cidr_list');
      cidrList(tokenCidrs, 'token_bound_cidrs');
      requireWithin(cidrs, role.secret_id_bound_cidrs, 'cidr_list');
      requireWithin(tokenCidrs, role.token_bound_cidrs, 'token_bound_cidrs');
      const limit = (asked: number | undefined, roles: number, field: string) => {
        if (asked === undefined || asked === 0) return roles;
        if (roles !== 0 && asked > roles)
          throw new CustosError('ERR_INVALID_REQUEST', `${field} cannot be more than the role's`);
        return asked;
      };
      const numUses = limit(options.numUses, role.secret_id_num_uses, 'num_uses');
      const ttl = limit(options.ttl, role.secret_id_ttl, 'ttl');
      const entry: SecretIdEntry = {
        accessor: randomUUID(),
        uses_left: numUses,
        num_uses: numUses,
        ttl,
        expires_at: ttl > 0 ? now() + ttl * 1000 : 0,
        created_at: now(),
        metadata: options.metadata,
        cidr_list: cidrs,
        token_bound_cidrs: tokenCidrs,
      };
      const path = `${SECRET_ID}${name}/${await hash(secretId)}`;
      await storage.create(path, entry).catch((err: unknown) => {
        // A chosen secret ID the role already has (never the storage path in the message).
        if (options.secretId !== undefined && isServerError(err, 'ERR_VERSION_CONFLICT'))
          throw new CustosError('ERR_INVALID_REQUEST', 'secret_id is already registered');
        throw err;
      });
      return {
        secret_id: secretId,
        secret_id_accessor: entry.accessor,
        secret_id_ttl: ttl,
        secret_id_num_uses: numUses,
      };
    },
    async listSecretIds(name: string): Promise<string[]> {
      await requireRole(name);
      return (await secretIdsOf(name))
        .filter(({ entry }) => !expired(entry))
        .map(({ entry }) => entry.accessor)
        .sort();
    },
    async lookupSecretId(name, by) {
      const found = await findSecretId(name, by);
      if (found === undefined || expired(found.entry)) return undefined;
      const { entry } = found;
      const iso = (ms: number) => new Date(ms).toISOString();
      return {
        secret_id_accessor: entry.accessor,
        secret_id_num_uses: entry.uses_left,
        secret_id_ttl: entry.ttl ?? 0,
        creation_time: iso(entry.created_at),
        expiration_time: entry.expires_at === 0 ? '0001-01-01T00:00:00Z' : iso(entry.expires_at),
        last_updated_time: iso(entry.created_at),
        metadata: entry.metadata,
        cidr_list: entry.cidr_list ?? [],
        token_bound_cidrs: entry.token_bound_cidrs ?? [],
      };
    },
    async destroySecretId(name, by) {
      const found = await findSecretId(name, by);
      if (found !== undefined) await storage.remove(found.path);
    },
    /**
     * Checks role ID, secret ID (where the role binds one) and the client address, spends one
     * use, and returns the role to issue a token for.
     */
    async login(
      roleId: unknown,
      secretId: unknown,
      clientAddress: string | undefined,
    ): Promise<ApproleLogin> {
      if (typeof roleId !== 'string' || roleId.length === 0 || roleId.length > 256)
        throw invalidLogin();
      const link = await storage.read<{ role: string }>(ROLE_ID + (await hash(roleId)));
      if (link === undefined) throw invalidLogin();
      const name = link.data.role;
      const role = await getRole(name);
      if (role === undefined) throw invalidLogin();
      // A role stored before unconstrained roles were refused logs nobody in.
      if (!isConstrained(role)) throw invalidLogin();
      if (
        role.secret_id_bound_cidrs.length > 0 &&
        !cidrList(role.secret_id_bound_cidrs, 'secret_id_bound_cidrs').has(clientAddress)
      )
        throw invalidLogin();
      if (!role.bind_secret_id) return { name, role, tokenBoundCidrs: role.token_bound_cidrs };
      if (typeof secretId !== 'string' || secretId.length === 0 || secretId.length > 256)
        throw invalidLogin();
      const path = `${SECRET_ID}${name}/${await hash(secretId)}`;
      const entry = await retryOnConflict(async () => {
        const stored = await storage.read<SecretIdEntry>(path);
        if (stored === undefined) throw invalidLogin();
        const entry = stored.data;
        if (expired(entry)) {
          await storage.remove(path);
          throw invalidLogin();
        }
        const cidrs = entry.cidr_list ?? [];
        if (cidrs.length > 0 && !cidrList(cidrs, 'cidr_list').has(clientAddress))
          throw invalidLogin();
        if (entry.uses_left === 0) return entry;
        await storage.transaction(async (tx) => {
          // Claim the use at the revision read; a concurrent login with the same ID retries.
          await tx.replace(path, { ...entry, uses_left: entry.uses_left - 1 }, stored.revision);
          if (entry.uses_left === 1) await tx.remove(path);
        });
        return entry;
      });
      const own = entry.token_bound_cidrs ?? [];
      return { name, role, tokenBoundCidrs: own.length > 0 ? own : role.token_bound_cidrs };
    },
  };
}
