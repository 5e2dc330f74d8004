/**
 * Paths a broad rule reaches: any path of any mount, and the `sys/` paths that change
 * policies, auth methods, mounts, audit devices or the seal (holding writes there is holding
 * everything).
 */
const PRIVILEGED_PROBES = [
  'any-mount-8f3a/any/path',
  'sys/policies/acl/any',
  'sys/policy/any',
  'sys/auth/any',
  'sys/mounts/any',
  'sys/audit/any',
  'sys/seal',
  'sys/rotate',
];

/** Vault's policy path syntax: `+` one segment, a final `*` any suffix, else literal. */
function matcherOf(pattern: string): RegExp {
  const glob = pattern.endsWith('*');
  const body = (glob ? pattern.slice(0, -1) : pattern)
    .split('+')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${body}${glob ? '.*' : ''}$`);
}

/**
 * Whether a policy path pattern reaches every path, or one that changes who may do what.
 *
 * @example
 * ```ts
 * isBroadPath('sys/policies/acl/*'); // true
 * isBroadPath('secret/data/app/*'); // false
 * ```
 */
export function isBroadPath(pattern: string): boolean {
  const matcher = matcherOf(pattern);
  return PRIVILEGED_PROBES.some((probe) => matcher.test(probe));
}
