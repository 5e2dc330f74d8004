/**
 * Page addresses. Names (mounts, secret paths, key names) go into the address one segment at a
 * time, percent-encoded, and are read back from the raw address the same way: never through a
 * decoder that leaves `%2F` or `%23` as they are.
 */
export const BASE = '/ui';

/** The decoded segments of the current address after `/ui/<page>/`. */
export function segmentsAfter(page: string): string[] {
  const prefix = `${BASE}/${page}/`;
  const path = window.location.pathname;
  if (!path.startsWith(prefix)) return [];
  return path
    .slice(prefix.length)
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

/** `/secrets/<mount>/<path…>` with each segment encoded; a folder path keeps its trailing `/`. */
export function secretHref(mount: string, path = ''): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return `/secrets/${encodeURIComponent(mount)}/${encoded}`;
}

export function keyHref(mount: string, name?: string): string {
  return name === undefined
    ? `/keys/${encodeURIComponent(mount)}/`
    : `/keys/${encodeURIComponent(mount)}/${encodeURIComponent(name)}`;
}
