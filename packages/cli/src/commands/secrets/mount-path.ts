/** A mount path as typed (`secret/`, `/transit`) to its API form under `sys/mounts/` (`secret`). */
export function mountPath(path: string): { path: string; route: string } {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return { path: trimmed, route: trimmed.split('/').map(encodeURIComponent).join('/') };
}

/** The `config` of a mount request: the lease TTLs given, if any. */
export function mountConfig(options: {
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
}): Record<string, string> {
  return {
    ...(options.defaultLeaseTtl === undefined
      ? {}
      : { default_lease_ttl: options.defaultLeaseTtl }),
    ...(options.maxLeaseTtl === undefined ? {} : { max_lease_ttl: options.maxLeaseTtl }),
  };
}
