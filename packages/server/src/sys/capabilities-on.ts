import { CustosError } from '@custos/core/errors';
import { stringList } from '../http/fields.js';
import { setOwn } from '../lib/own-property.js';
import type { Acl } from '../policy/acl.js';

/**
 * The `paths` of a `sys/capabilities*` request (Vault also takes the older `path`), at least one.
 *
 * @example
 * ```ts
 * capabilityPaths({ paths: ['secret/data/a'] }); // ['secret/data/a']
 * ```
 */
export function capabilityPaths(body: Record<string, unknown>): string[] {
  const paths = stringList(body.paths ?? body.path, 'paths');
  if (paths.length === 0) throw new CustosError('ERR_INVALID_REQUEST', "missing 'paths'");
  return paths;
}

/**
 * Vault's answer to `sys/capabilities`, `…-self` and `…-accessor`: each path with the
 * capabilities `acl` grants there (sorted; `["root"]` for the root policy, `["deny"]` for none),
 * and `capabilities` for the first path (what older clients read).
 *
 * @example
 * ```ts
 * capabilitiesOn(acl, ['secret/data/a']); // { 'secret/data/a': ['read'], capabilities: ['read'] }
 * ```
 */
export function capabilitiesOn(
  acl: Acl | undefined,
  paths: readonly string[],
): Record<string, string[]> {
  const data: Record<string, string[]> = {};
  for (const path of paths) {
    const caps = acl?.isRoot ? ['root'] : [...(acl?.capabilities(path) ?? [])].sort();
    setOwn(data, path, caps.length > 0 ? caps : ['deny']);
  }
  return { ...data, capabilities: data[paths[0] as string] ?? ['deny'] };
}
