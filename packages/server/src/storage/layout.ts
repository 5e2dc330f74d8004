/**
 * Every place the server keeps something in storage, in one list. Each area has a `prefix` (the
 * root of the storage view its owner is given, ending in `/`) and the keys its owner uses inside
 * it, relative to that prefix. A new kind of stored entry gets its key here, inside the area of
 * the component that owns it; a new component gets a new area whose prefix no other area's
 * starts with (an area nests only inside its owner's: the usage log inside transit).
 *
 * The full storage path of an entry is `prefix + key`; the barrier encrypts each value with that
 * full path as associated data, so an entry never moves once written.
 *
 * @example
 * ```ts
 * const view = barrierView(barrier, TRANSIT.prefix);
 * await view.read(`${TRANSIT.policy}orders`); // storage path transit/policy/orders
 * ```
 * @module
 */

/**
 * Entries below the barrier, read and written by the seal with the root key or in the clear:
 * the barrier keyring (root-key encrypted) and the seal configuration (share counts only).
 */
export const CORE = {
  prefix: 'core/',
  /** The barrier keyring, encrypted under the root key. */
  keyring: 'keyring',
  /** `{ shares, threshold }`: no secret. */
  sealConfig: 'seal-config',
  /** The key that hashes token IDs (behind the barrier, read by the token store). */
  tokenHmacKey: 'token-hmac-key',
  /** The AES-256 key batch tokens are sealed with (behind the barrier, read by the token store). */
  batchTokenKey: 'batch-token-key',
  /**
   * The root key after a rekey, encrypted under the barrier keyring: how another server that
   * holds the old root key follows the change (it holds the keyring, not the new shares).
   */
  rootKey: 'root-key',
  /** Auto-unseal: the root key wrapped by the seal, with the wrapping key's version (no secret in the clear). */
  wrappedRootKey: 'wrapped-root-key',
  /** Auto-unseal: the recovery key, encrypted under the barrier keyring. */
  recoveryKey: 'recovery-key',
  /** `{ nonce, … }` of the rekey in progress (no secret): one at a time across servers. */
  rekeyAttempt: 'rekey-attempt',
  /** `{ nonce, … }` of the recovery key rekey in progress (no secret): one at a time. */
  rekeyRecoveryAttempt: 'rekey-recovery-attempt',
  /** `{ nonce, … }` of the root token generation in progress (no secret). */
  generateRootAttempt: 'generate-root-attempt',
} as const;

/** The token store (`<hash>` is a token's keyed hash). */
export const TOKENS = {
  prefix: 'sys/token/',
  /** `id/<hash>`: the entry. */
  id: 'id/',
  /** `accessor/<accessor>`: `{ hash }`. */
  accessor: 'accessor/',
  /** `child/<parent hash>/<child hash>`: one link per child, listed to revoke a tree. */
  child: 'child/',
  /** `due/<Unix seconds, 12 digits>/<hash>`: when the sweeper must revoke it (0 = now). */
  due: 'due/',
  /** `role/<name>`: a token role. */
  role: 'role/',
  /** `cubbyhole/<hash>/data/<key>`: the token's cubbyhole, removed with the token. */
  cubbyhole: 'cubbyhole/',
} as const;

/** Response wrapping: wrapped responses, keyed by their wrapping token's accessor. */
export const WRAPPING = {
  prefix: 'sys/wrapping/',
  /** `response/<accessor>`: the wrapped response and when and where it was wrapped. */
  response: 'response/',
  /** `due/<Unix seconds, 12 digits>/<accessor>`: when the wrapped response may be dropped. */
  due: 'due/',
} as const;

/** ACL policies: `<name>` holds `{ text }`. */
export const POLICIES = {
  prefix: 'sys/policy/',
} as const;

/** The audit broker's keys and chain state, per sink. */
export const AUDIT = {
  prefix: 'sys/audit/',
  /** The Ed25519 key that signs checkpoints. */
  signingKey: 'signing-key',
  /** `hmac-key/<sink>`: the key that HMACs the sink's values. */
  hmacKey: 'hmac-key/',
  /** `checkpoint/<sink>`: the sink's last checkpoint. */
  checkpoint: 'checkpoint/',
  /** `files/<sink>`: the starts of the sink's files. */
  files: 'files/',
  /** `owner/<sink>`: the node writing the sink's chain now (a lease it renews). */
  owner: 'owner/',
} as const;

/** The mount table: `table` holds every mount and auth method (`sys/mount-table.ts`). */
export const MOUNT_TABLE = {
  prefix: 'sys/mounts/',
  table: 'table',
} as const;

/**
 * The data of a mount enabled through `sys/mounts` or `sys/auth`: everything it stores lives
 * under `mount/<mount uuid>/`, so disabling it removes that area and a remount moves nothing.
 * (The mounts a server starts with keep their own areas: `kv/secret/`, `transit/`, `auth/approle/`.)
 */
export const MOUNT_DATA = {
  prefix: (uuid: string): string => `mount/${uuid}/`,
} as const;

/** The AppRole auth method. */
export const APPROLE = {
  prefix: 'auth/approle/',
  /** `role/<name>`: the role. */
  role: 'role/',
  /** `role-id/<role id>`: the name of the role that has it. */
  roleId: 'role-id/',
  /** `secret-id/<role name>/<hash>`: one secret ID. */
  secretId: 'secret-id/',
} as const;

/** The transit engine. */
export const TRANSIT = {
  prefix: 'transit/',
  /** `policy/<name>`: a key's policy. */
  policy: 'policy/',
  /** `key/<name>/<version>`: one version's key material. */
  key: 'key/',
  /** `revoked-material/<fingerprint>`: revoked key material, kept after its key is deleted. */
  revokedMaterial: 'revoked-material/',
  /** `usage/<name>/<time>-<random>`: the key's usage log (see {@link TRANSIT_USAGE}). */
  usage: 'usage/',
  /** The RSA-4096 key that wraps keys imported by BYOK (`transit/wrapping_key`). */
  wrappingKey: 'wrapping-key',
} as const;

/** The transit usage log: `<name>/<time>-<random>` segments, inside the transit area. */
export const TRANSIT_USAGE = {
  prefix: `${TRANSIT.prefix}${TRANSIT.usage}`,
} as const;

/** One KV version 2 mount. */
export const KV = {
  /** The area of mount `mount` (`kv/secret/` for the default mount). */
  prefix: (mount: string): string => `kv/${mount}/`,
  /** The mount's settings. */
  config: 'config',
  /** `meta/<key>`: a key's metadata. */
  meta: 'meta/',
  /** `ver/<version>/<key>`: one version's data. */
  version: 'ver/',
} as const;

/** The AWS APIs' own entries (Secrets Manager's secrets live in KV, KMS keys in transit). */
export const AWS = {
  prefix: 'aws/',
  /** `access-key/<access key id>`: the key's secret, policies and lifetime. */
  accessKey: 'access-key/',
  /** `kms/alias/<name after alias/>`: the transit key a KMS alias names. */
  kmsAlias: 'kms/alias/',
  /** `kms/key/<transit key name>`: what the KMS API adds to a transit key (description, deletion date). */
  kmsKey: 'kms/key/',
} as const;

/**
 * The rotation engine (rotation/): `<secret>` is `<mount>/<key>` of a KV secret.
 */
export const ROTATION = {
  prefix: 'sys/rotation/',
  /** `policy/<secret>`: the secret's rotation policy. */
  policy: 'policy/',
  /** `run/<secret>`: the rotation in progress (or the last one), its step persisted before each step. */
  run: 'run/',
  /** `history/<secret>/<start ms, 15 digits>-<rotation id>`: one finished rotation. */
  history: 'history/',
  /** The HMAC key of value fingerprints in the history (never leaves the barrier). */
  fingerprintKey: 'fingerprint-key',
  /** `lease/<secret>`: which node runs a scheduled rotation of it, until when. */
  lease: 'lease/',
  /** `rewrap/<rotation id>`: a `transit-key` rotation's rewrap progress (last id per target). */
  rewrap: 'rewrap/',
  /** `request/<id>`: a rotation waiting for (or given) its two-person approvals. */
  request: 'request/',
  /**
   * `job/<secret>`: the background work of the secret's last rotation (a `transit-key` rewrap):
   * its state and which node holds it, until when.
   */
  job: 'job/',
} as const;

/**
 * Change events relayed between nodes sharing PostgreSQL (events/event-relay.ts), written only
 * while other nodes listen: which secret changed, behind the barrier like everything else; each
 * entry is dropped a minute after it was written.
 */
export const EVENTS = {
  prefix: 'sys/events/',
  /** `relay/<ms, 13 digits>-<node id>-<n>`: one change event. */
  relay: 'relay/',
} as const;

/**
 * Areas no node caches (every use reads storage): a write there returns without settling with
 * the other nodes (storage/NOTES.md, "Settling"), which would cost a round trip and their
 * answers for nothing. A cache of an entry under one of them would serve it stale.
 */
export const UNCACHED_AREAS: readonly string[] = [EVENTS.prefix + EVENTS.relay];

/**
 * Whether no node caches `path` (see {@link UNCACHED_AREAS}).
 *
 * @example
 * ```ts
 * isUncached('sys/events/relay/0001733300000000-ab12-1'); // true
 * ```
 */
export function isUncached(path: string): boolean {
  return UNCACHED_AREAS.some((area) => path.startsWith(area));
}
