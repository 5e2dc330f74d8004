import { CustosError } from '@custos/core/errors';

/**
 * First path segments that are never a secrets engine's mount: the system backend, the auth
 * methods, the per-token cubbyhole, Vault's identity store, and the Secrets Manager access keys
 * (`aws/`), which custos routes itself.
 */
export const RESERVED_MOUNT_SEGMENTS: ReadonlySet<string> = new Set([
  'sys',
  'auth',
  'cubbyhole',
  'identity',
  'aws',
]);

/** One segment: lower-case letters, digits, `-` and `_`, starting with a letter or digit. */
const SEGMENT = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The mount path a request names (`kv1`, `kv1/`), in its one spelling (`kv1/`): one segment of
 * lower-case letters, digits, `-` and `_`. Anything else is refused naming what is wrong: more
 * than one segment (custos routes a mount by the first segment of a path), `.`/`..`, an empty
 * path, upper case, or any other character (`#`, `%`, a space…).
 *
 * @example
 * ```ts
 * canonicalMountPath('kv1/'); // 'kv1/'
 * canonicalMountPath('KV1'); // throws ERR_INVALID_REQUEST
 * ```
 */
export function canonicalMountPath(raw: string): string {
  const trimmed = raw.endsWith('/') ? raw.slice(0, -1) : raw;
  if (trimmed === '') throw invalid('mount path must not be empty');
  if (trimmed.includes('/'))
    throw invalid('mount path must be one segment (custos does not nest mount paths)');
  if (!SEGMENT.test(trimmed))
    throw invalid(
      'mount path must be 1 to 64 lower-case letters, digits, "-" or "_", starting with a letter or digit',
    );
  return `${trimmed}/`;
}

/**
 * A secrets engine's mount path as `sys/mounts/:path` and `sys/remount` take it: canonical
 * ({@link canonicalMountPath}) and not reserved (`sys/`, `auth/`, `cubbyhole/`, `identity/`,
 * `aws/`, and any first segment of a route the server declares without `:mount`, `reserved`). A path under an existing mount is refused as Vault does (`path is already in use at
 * secret/`) before its shape is judged.
 *
 * @example
 * ```ts
 * secretsMountPath('kv1', ['secret/']); // 'kv1/'
 * secretsMountPath('secret/a', ['secret/']); // throws: path is already in use at secret/
 * ```
 */
export function secretsMountPath(
  raw: string,
  existing: readonly string[],
  reserved: ReadonlySet<string> = RESERVED_MOUNT_SEGMENTS,
): string {
  const first = raw.split('/')[0] ?? '';
  const under = existing.find((path) => path === `${first}/` && raw.length > path.length);
  if (under !== undefined && raw !== under) throw invalid(`path is already in use at ${under}`);
  const path = canonicalMountPath(raw);
  if (RESERVED_MOUNT_SEGMENTS.has(path.slice(0, -1)) || reserved.has(path.slice(0, -1)))
    throw invalid(`cannot mount under ${path}: the path is reserved`);
  return path;
}

/**
 * Refuses a mount path named in any case but lower case (mount paths have one spelling):
 * declared as a route's `access.names`, so the boundary refuses it before the ACL judges it.
 *
 * @example
 * ```ts
 * route({ method: 'DELETE', path: '/v1/sys/mounts/*', access: { names: { '*': lowerCaseMountPath } }, handler });
 * ```
 */
export function lowerCaseMountPath(path: string): void {
  if (path !== path.toLowerCase())
    throw invalid(
      'mount path must be 1 to 64 lower-case letters, digits, "-" or "_", starting with a letter or digit',
    );
}

/**
 * The first path segments routes claim for themselves (`/v1/aws/access-key` → `aws`): a mount
 * there would be shadowed by them, so `sys/mounts` refuses it. Routes declared with `:mount`
 * claim none.
 *
 * @example
 * ```ts
 * staticFirstSegments(['/v1/sys/mounts', '/v1/:mount/data/*']); // Set { 'sys' }
 * ```
 */
export function staticFirstSegments(paths: Iterable<string>): Set<string> {
  const segments = new Set<string>();
  for (const path of paths) {
    const first = /^\/v1\/([^/:*]+)/.exec(path)?.[1];
    if (first !== undefined) segments.add(first);
  }
  return segments;
}
