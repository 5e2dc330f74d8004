import { type KeyObject, randomUUID } from 'node:crypto';
import { hmacSha256 } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';
import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
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
}

interface SecretIdEntry {
  accessor: string;
  /** Remaining uses; 0 = unlimited. */
  uses_left: number;
  /** Unix ms; 0 = never. */
  expires_at: number;
  created_at: number;
  metadata: Record<string, string>;
}

const ROLE = APPROLE.role;
const ROLE_ID = APPROLE.roleId;
/** Vault's refusal of a role_id another role has. */
const ROLE_ID_IN_USE = 'role_id already in use';
const SECRET_ID = APPROLE.secretId;
const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A role must constrain who may log in with its role ID. The secret ID is the only constraint
 * custos has (no CIDR binding), so it cannot be switched off; Vault likewise refuses a role
 * with no constraint at all.
 */
const UNCONSTRAINED_ROLE =
  'bind_secret_id must be true: a role needs a login constraint and custos supports no other (no CIDR binding)';

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
 * const { secret_id } = await approles.createSecretId('ci', {});
 * ```
 */
export interface Approles {
  /** The role, or undefined when there is none. */
  getRole(name: string): Promise<ApproleRole | undefined>;
  /** Creates or updates a role with the given settings (a new role gets a role ID). */
  putRole(name: string, input: Partial<ApproleRole>): Promise<void>;
  /** Deletes a role with its role ID and every secret ID. */
  deleteRole(name: string): Promise<void>;
  /** Every role name, sorted. */
  listRoles(): Promise<string[]>;
  /** Issues a secret ID for the role, with `metadata` (a string map). */
  createSecretId(name: string, metadata: Record<string, string>): Promise<IssuedSecretId>;
  /** Checks role ID and secret ID, spends one use, and returns the role to issue a token for. */
  login(roleId: unknown, secretId: unknown): Promise<{ name: string; role: ApproleRole }>;
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
 * const { secret_id } = await approles.createSecretId('ci', {});
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

  const getRole = async (name: string) => (await storage.read<ApproleRole>(ROLE + name))?.data;

  return {
    getRole,
    async putRole(name: string, input: Partial<ApproleRole>): Promise<void> {
      if (!ROLE_NAME.test(name))
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          'role names are 1-128 characters of A-Z a-z 0-9 . _ -',
        );
      await retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const existing = await tx.read<ApproleRole>(ROLE + name);
          const role: ApproleRole = {
            role_id: existing?.data.role_id ?? randomUUID(),
            token_policies: [],
            token_ttl: 0,
            token_max_ttl: 0,
            token_num_uses: 0,
            secret_id_num_uses: 0,
            secret_id_ttl: 0,
            bind_secret_id: true,
            ...existing?.data,
            ...input,
          };
          if (!role.bind_secret_id)
            throw new CustosError('ERR_INVALID_REQUEST', UNCONSTRAINED_ROLE);
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
    },
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
    async createSecretId(name: string, metadata: Record<string, string>): Promise<IssuedSecretId> {
      const role = await getRole(name);
      if (role === undefined) throw new CustosError('ERR_NOT_FOUND', `role ${name} does not exist`);
      const secretId = randomUUID();
      const entry: SecretIdEntry = {
        accessor: randomUUID(),
        uses_left: role.secret_id_num_uses,
        expires_at: role.secret_id_ttl > 0 ? now() + role.secret_id_ttl * 1000 : 0,
        created_at: now(),
        metadata,
      };
      await storage.create(`${SECRET_ID}${name}/${await hash(secretId)}`, entry);
      return {
        secret_id: secretId,
        secret_id_accessor: entry.accessor,
        secret_id_ttl: role.secret_id_ttl,
        secret_id_num_uses: role.secret_id_num_uses,
      };
    },
    /** Checks role ID and secret ID, spends one use, and returns the role to issue a token for. */
    async login(roleId: unknown, secretId: unknown): Promise<{ name: string; role: ApproleRole }> {
      if (typeof roleId !== 'string' || roleId.length === 0 || roleId.length > 256)
        throw invalidLogin();
      const link = await storage.read<{ role: string }>(ROLE_ID + (await hash(roleId)));
      if (link === undefined) throw invalidLogin();
      const name = link.data.role;
      const role = await getRole(name);
      if (role === undefined) throw invalidLogin();
      // A role stored before unconstrained roles were refused logs nobody in.
      if (!role.bind_secret_id) throw invalidLogin();
      if (typeof secretId !== 'string' || secretId.length === 0 || secretId.length > 256)
        throw invalidLogin();
      const path = `${SECRET_ID}${name}/${await hash(secretId)}`;
      await retryOnConflict(async () => {
        const stored = await storage.read<SecretIdEntry>(path);
        if (stored === undefined) throw invalidLogin();
        const entry = stored.data;
        if (entry.expires_at !== 0 && entry.expires_at <= now()) {
          await storage.remove(path);
          throw invalidLogin();
        }
        if (entry.uses_left === 0) return;
        await storage.transaction(async (tx) => {
          // Claim the use at the revision read; a concurrent login with the same ID retries.
          await tx.replace(path, { ...entry, uses_left: entry.uses_left - 1 }, stored.revision);
          if (entry.uses_left === 1) await tx.remove(path);
        });
      });
      return { name, role };
    },
  };
}
