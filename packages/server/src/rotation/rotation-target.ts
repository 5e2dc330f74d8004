import { CustosError } from '@custos/core/errors';
import { mountOf } from '../sys/mounts.js';
import type { SecretRef } from './rotation-engine.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The KV secret a rotation route names (`secret/app/db`, the `*` of `sys/rotation/*`): its
 * mount by the server's mount table (a KV mount only) and its key. A key with an empty, `.`
 * or `..` segment, or ending in `/`, is refused: a rotation names exactly one secret, in the
 * one spelling the ACL judged.
 *
 * @example
 * ```ts
 * secretOfPath('secret/app/db'); // { mount: 'secret', key: 'app/db' }
 * ```
 */
export function secretOfPath(path: string): SecretRef {
  const mount = mountOf(path);
  if (mount === undefined || mount.type !== 'kv')
    throw invalid('the path must name a secret of a KV version 2 mount: <mount>/<path>');
  const key = path.slice(mount.path.length);
  if (key === '' || key.endsWith('/'))
    throw invalid('the path must name a secret, not a mount or a folder');
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw invalid('the path has an empty, . or .. segment');
  return { mount: mount.path.slice(0, -1), key };
}
