import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Creates `dir` and its missing parents, one level at a time and never recursively: the missing
 * ones are found walking up to the first that exists (one step per level of the path), then
 * made top down, and the first error is thrown as it is. Node's `mkdir(…, { recursive: true })`
 * spins forever where the parent exists but refuses new entries with `ENOENT` (`/proc/x/y`).
 * A directory another process creates meanwhile is taken as it is.
 *
 * @example
 * ```ts
 * await makeDirectories('/home/ada/.cache/custos', 0o700);
 * ```
 */
export async function makeDirectories(dir: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      await stat(current);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (dirname(current) === current) break; // a root that does not exist: mkdir says why
    missing.push(current);
  }
  for (const path of missing.reverse()) {
    try {
      await mkdir(path, mode === undefined ? {} : { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Writes `data` to `path` with mode 0600, through a temporary file renamed over it: readers see
 * the old content or the new, never a part. The temporary file has a name nobody can guess and
 * is created only if nothing is there (no link followed): a link planted at a predictable name
 * would have had the data written through it, outside the tree.
 *
 * @example
 * ```ts
 * await replacePrivately('/home/ada/.cache/custos/scan-cache.key', randomBytes(32));
 * ```
 */
export async function replacePrivately(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${randomBytes(12).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data, { mode: 0o600, flag: 'wx' });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
