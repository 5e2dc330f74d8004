import { CustosError, isCustosError } from '@custos/core/errors';
import type { KvEngine } from '../kv/kv-engine.js';
import type { KvMounts } from '../kv/kv-mounts.js';
import type { MountEntry, MountTable } from '../sys/mount-table.js';
import { mountOf } from '../sys/mounts.js';
import type { SecretRef } from './rotation-engine.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** The mount `path` names in `mounts` (a KV version 2 mount only) and its key there. */
function kvSecretOf(
  path: string,
  mounts: readonly MountEntry[],
): { readonly mount: MountEntry; readonly key: string } {
  // The longest mount path the name starts with (`teams/a/kv/`), as a request is routed:
  // never its first segment alone, which names another mount (or none) under one of several.
  const mount = mountOf(mounts, path);
  if (mount === undefined || mount.type !== 'kv' || mount.options?.version !== '2')
    throw invalid('the path must name a secret of a KV version 2 mount: <mount>/<path>');
  const key = path.slice(mount.path.length);
  if (key === '' || key.endsWith('/'))
    throw invalid('the path must name a secret, not a mount or a folder');
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw invalid('the path has an empty, . or .. segment');
  return { mount, key };
}

/**
 * The KV secret a rotation route names (`secret/app/db`, `teams/a/kv/app/db`: the `*` of
 * `sys/rotation/*`): its mount by the server's mount table `mounts` (the longest mount path the
 * path starts with; a KV version 2 mount only) and its key. A key with an empty, `.` or `..`
 * segment, or ending in `/`, is refused: a rotation names exactly one secret, in the one
 * spelling the ACL judged.
 *
 * @example
 * ```ts
 * secretOfPath('secret/app/db', await mounts.list()); // { mount: 'secret', key: 'app/db' }
 * secretOfPath('teams/a/kv/db', await mounts.list()); // { mount: 'teams/a/kv', key: 'db' }
 * ```
 */
export function secretOfPath(path: string, mounts: readonly MountEntry[]): SecretRef {
  return secretAndMountOfPath(path, mounts).ref;
}

/**
 * As {@link secretOfPath}, with the mount entry the secret is on.
 *
 * @example
 * ```ts
 * secretAndMountOfPath('teams/a/kv/db', await mounts.list()).mount.uuid;
 * ```
 */
export function secretAndMountOfPath(
  path: string,
  mounts: readonly MountEntry[],
): { readonly ref: SecretRef; readonly mount: MountEntry } {
  const { mount, key } = kvSecretOf(path, mounts);
  return { ref: { mount: mount.path.slice(0, -1), key }, mount };
}

/** A stored secret name resolved in the mount table in force. */
export interface ResolvedSecret {
  /** Its mount (without the `/`) and its key there. */
  readonly ref: SecretRef;
  /** The KV version 2 engine serving the mount. */
  readonly kv: KvEngine;
  /** The mount's uuid (a policy records the one it was written for). */
  readonly mountUuid: string;
}

/**
 * Resolves the names the rotation engine stores (`<mount>/<key>`: policies, runs, history,
 * background jobs) through the mount table in force, as {@link secretOfPath} resolves a route's
 * path: a name is read back by the longest mount path it starts with, never by its first
 * segment. Undefined when no KV version 2 mount holds the name (now).
 *
 * @example
 * ```ts
 * const secretOf = kvSecrets(mounts, kvMounts);
 * (await secretOf('teams/a/kv/app/db'))?.ref; // { mount: 'teams/a/kv', key: 'app/db' }
 * ```
 */
export function kvSecrets(
  mounts: Pick<MountTable, 'list'>,
  kvMounts: Pick<KvMounts, 'v2'>,
): (secret: string) => Promise<ResolvedSecret | undefined> {
  return async (secret) => {
    let found: ReturnType<typeof kvSecretOf>;
    try {
      found = kvSecretOf(secret, await mounts.list());
    } catch (err) {
      if (isCustosError(err, 'ERR_INVALID_REQUEST')) return undefined;
      throw err;
    }
    return {
      ref: { mount: found.mount.path.slice(0, -1), key: found.key },
      kv: kvMounts.v2(found.mount),
      mountUuid: found.mount.uuid,
    };
  };
}
