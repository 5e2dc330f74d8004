/** A mounted engine, as `sys/mounts` describes it. */
export interface MountInfo {
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly options: Record<string, string> | null;
}

/**
 * custos mounts a fixed set of engines: KV v2 at `secret/`, transit at `transit/`, and the
 * system and auth backends. Enabling more mounts is not supported.
 */
export const MOUNTS: readonly MountInfo[] = [
  {
    path: 'secret/',
    type: 'kv',
    description: 'key/value secret storage',
    options: { version: '2' },
  },
  { path: 'transit/', type: 'transit', description: 'encryption as a service', options: null },
  { path: 'sys/', type: 'system', description: 'system endpoints', options: null },
  { path: 'auth/token/', type: 'token', description: 'token based credentials', options: null },
  { path: 'auth/approle/', type: 'approle', description: 'AppRole for machines', options: null },
];

/** The mount serving `path`, if any. */
export function mountOf(path: string): MountInfo | undefined {
  const normalized = path.endsWith('/') ? path : `${path}/`;
  return MOUNTS.filter((m) => normalized.startsWith(m.path)).sort(
    (a, b) => b.path.length - a.path.length,
  )[0];
}

/** The fields Vault returns for a mount. */
export function describeMount(mount: MountInfo): Record<string, unknown> {
  return {
    type: mount.type,
    description: mount.description,
    accessor: `${mount.type}_custos`,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    options: mount.options,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    plugin_version: '',
    running_plugin_version: '',
    uuid: '',
  };
}
