/** The API path of an AppRole role (and a part under it) at `mount`. */
export function rolePath(mount: string, name: string, part?: string): string {
  const base = `auth/${mount.replace(/^\/+|\/+$/g, '')}/role/${encodeURIComponent(name)}`;
  return part === undefined ? base : `${base}/${part}`;
}
