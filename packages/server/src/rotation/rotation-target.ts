import { CustosError } from '@custos/core/errors';
import type { MountEntry } from '../sys/mount-table.js';
import { mountOf } from '../sys/mounts.js';
import type { SecretRef } from './rotation-engine.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The KV secret a rotation route names (`secret/app/db`, the `*` of `sys/rotation/*`): its
 * mount by the server's mount table `mounts` (a KV version 2 mount only) and its key. A key with an empty, `.`
 * or `..` segment, or ending in `/`, is refused: a rotation names exactly one secret, in the
 * one spelling the ACL judged.
 *
 * @example
 * ```ts
 * secretOfPath('secret/app/db', await mounts.list()); // { mount: 'secret', key: 'app/db' }
 * ```
 */
export function secretOfPath(path: string, mounts: readonly MountEntry[]): SecretRef {
  const mount = mountOf(mounts, path);
  if (mount === undefined || mount.type !== 'kv' || mount.options?.version !== '2')
    throw invalid('the path must name a secret of a KV version 2 mount: <mount>/<path>');
  // A stored secret name is read back as `<first segment>/<key>` (refOfSecret): a mount of
  // several segments would be read as another mount, so it is refused here, before anything
  // is stored.
  if (mount.path.indexOf('/') !== mount.path.length - 1)
    throw invalid('rotation is not available for secrets on a mount of several segments');
  const key = path.slice(mount.path.length);
  if (key === '' || key.endsWith('/'))
    throw invalid('the path must name a secret, not a mount or a folder');
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw invalid('the path has an empty, . or .. segment');
  return { mount: mount.path.slice(0, -1), key };
}
