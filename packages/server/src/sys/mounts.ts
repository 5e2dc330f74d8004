import type { MountEntry } from './mount-table.js';

/**
 * The mount serving `path` (`secret/app/db`): the longest mount path it starts with.
 *
 * @example
 * ```ts
 * mountOf(await mounts.list(), 'secret/app/db')?.path; // 'secret/'
 * ```
 */
export function mountOf(mounts: readonly MountEntry[], path: string): MountEntry | undefined {
  const normalized = path.endsWith('/') ? path : `${path}/`;
  return mounts
    .filter((m) => normalized.startsWith(m.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/** Whether `mount` is an auth method (mounted under `auth/`). */
export const isAuthMount = (mount: MountEntry): boolean => mount.path.startsWith('auth/');

/**
 * The fields Vault returns for a mount (`sys/mounts`, `sys/auth`, `sys/mounts/:path`).
 *
 * @example
 * ```ts
 * describeMount(mount).options; // { version: '2' }
 * ```
 */
export function describeMount(mount: MountEntry): Record<string, unknown> {
  return {
    type: mount.type,
    description: mount.description,
    accessor: mount.accessor,
    config: { ...mount.config, force_no_cache: false },
    options: mount.options,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    plugin_version: '',
    running_plugin_version: '',
    running_sha256: '',
    uuid: mount.uuid,
  };
}

/**
 * A mount's settings as `sys/mounts/:path/tune` reads them.
 *
 * @example
 * ```ts
 * tuneOf(mount); // { default_lease_ttl: 2764800, max_lease_ttl: 2764800, … }
 * ```
 */
export function tuneOf(mount: MountEntry): Record<string, unknown> {
  // 0 means the system default, which Vault reports (768 h).
  const systemDefault = 768 * 3600;
  return {
    default_lease_ttl: mount.config.default_lease_ttl || systemDefault,
    max_lease_ttl: mount.config.max_lease_ttl || systemDefault,
    force_no_cache: false,
    description: mount.description,
    options: mount.options,
  };
}
