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

/**
 * One segment: ASCII letters (either case: `Team/` and `team/` are two mounts, as in Vault),
 * digits, `-` and `_`, starting with a letter or digit. Nothing outside ASCII: a character a
 * case folding maps onto an ASCII letter (`ſ`, the Kelvin sign) is refused.
 */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** At most this many segments in a mount path (`teams/a/kv/` has 3). */
export const MAX_MOUNT_SEGMENTS = 8;

const SEGMENT_RULE =
  'mount path segments must be 1 to 64 ASCII letters, digits, "-" or "_", starting with a letter or digit';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The mount path a request names (`kv1`, `teams/a/kv/`), ending in one `/` (`teams/a/kv/`):
 * 1 to {@link MAX_MOUNT_SEGMENTS} segments of ASCII letters, digits, `-` and `_`, case kept
 * (case-sensitive, as Vault: `Team/` is not `team/`). Anything else is refused naming what is
 * wrong: an empty path or segment (`a//b`), `.`/`..`, or any other character (`#`, `%`, a
 * space, a letter outside ASCII…).
 *
 * @example
 * ```ts
 * canonicalMountPath('teams/a/kv'); // 'teams/a/kv/'
 * canonicalMountPath('Team'); // 'Team/'
 * canonicalMountPath('a.b'); // throws ERR_INVALID_REQUEST
 * ```
 */
export function canonicalMountPath(raw: string): string {
  const trimmed = raw.endsWith('/') ? raw.slice(0, -1) : raw;
  if (trimmed === '') throw invalid('mount path must not be empty');
  const segments = trimmed.split('/');
  if (segments.length > MAX_MOUNT_SEGMENTS)
    throw invalid(`mount path must have at most ${MAX_MOUNT_SEGMENTS} segments`);
  if (segments.some((segment) => segment === ''))
    throw invalid('mount path must not have an empty segment');
  if (!segments.every((segment) => SEGMENT.test(segment))) throw invalid(SEGMENT_RULE);
  return `${trimmed}/`;
}

/**
 * The mount of `existing` that `path` (canonical) would nest in or enclose (or be), as Vault
 * finds it: `a/b/` clashes with `a/` and `a/b/c/`, never with `a/bc/`.
 *
 * @example
 * ```ts
 * clashingMount('secret/a/', ['secret/']); // 'secret/'
 * clashingMount('a/bc/', ['a/b/']); // undefined
 * ```
 */
export function clashingMount(path: string, existing: readonly string[]): string | undefined {
  return existing.find((other) => path.startsWith(other) || other.startsWith(path));
}

/**
 * A secrets engine's mount path as `sys/mounts/:path` and `sys/remount` take it: canonical
 * ({@link canonicalMountPath}) and its first segment not reserved, in any case and at any depth
 * (`sys/`, `Sys/`, `AUTH/`, `cubbyhole/`, `identity/`, `aws/`, and any first segment of a route
 * the server declares without `:mount`, `reserved`: a path a proxy, a client or an operator may
 * read without case must never name a mount beside the system's). Whether it clashes with a
 * mount is the mount table's to judge, in the transaction that adds it ({@link clashingMount}).
 *
 * @example
 * ```ts
 * secretsMountPath('teams/a/kv'); // 'teams/a/kv/'
 * secretsMountPath('Sys/x'); // throws: cannot mount under Sys/: the path is reserved
 * ```
 */
export function secretsMountPath(
  raw: string,
  reserved: ReadonlySet<string> = RESERVED_MOUNT_SEGMENTS,
): string {
  const path = canonicalMountPath(raw);
  const first = path.slice(0, path.indexOf('/'));
  // ASCII only (canonicalMountPath): lower-casing folds nothing else onto a reserved name.
  const folded = first.toLowerCase();
  if (
    RESERVED_MOUNT_SEGMENTS.has(folded) ||
    [...reserved].some((segment) => segment.toLowerCase() === folded)
  )
    throw invalid(`cannot mount under ${first}/: the path is reserved`);
  return path;
}

/**
 * An auth method's path under `auth/` as `sys/auth/:path` and `sys/remount` take it (without
 * `auth/`): canonical ({@link canonicalMountPath}) and not the token method's `token/` in another
 * case (`Token/`, `TOKEN/x`), which would read as it to anyone who reads paths without case.
 * `token/` itself is the token method's mount: enabling there is refused as a path in use.
 *
 * @example
 * ```ts
 * authMountPath('ci/machines'); // 'ci/machines/'
 * authMountPath('Token'); // throws: cannot enable an auth method under auth/Token/: the path is reserved
 * ```
 */
export function authMountPath(raw: string): string {
  const path = canonicalMountPath(raw);
  const first = path.slice(0, path.indexOf('/'));
  if (first !== 'token' && first.toLowerCase() === 'token')
    throw invalid(`cannot enable an auth method under auth/${first}/: the path is reserved`);
  return path;
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
