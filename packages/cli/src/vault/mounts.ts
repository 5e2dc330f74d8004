import { print } from '../output.js';
import { type OutputFlags, outputFormat, table } from './format.js';

/**
 * Prints a `sys/mounts` or `sys/auth` answer as `vault secrets list` / `vault auth list` do: a
 * `Path Type Accessor Description` table, or with `-format=json` the mounts by path.
 *
 * @example
 * ```ts
 * printMounts((await client.request('GET', 'sys/mounts')).body, { format: 'table' });
 * ```
 */
export function printMounts(body: Record<string, unknown> | null, flags: OutputFlags): void {
  const format = outputFormat(flags);
  const data = (body?.data ?? {}) as Record<string, Record<string, unknown>>;
  if (format === 'json') {
    print(JSON.stringify(data, null, 2));
    return;
  }
  const rows = Object.keys(data)
    .sort()
    .map((path) => {
      const mount = data[path] ?? {};
      return [
        path,
        String(mount.type ?? ''),
        String(mount.accessor ?? ''),
        String(mount.description ?? ''),
      ];
    });
  for (const line of table(['Path', 'Type', 'Accessor', 'Description'], rows)) print(line);
}
