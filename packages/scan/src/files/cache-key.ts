import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CustosError } from '@custos/core/errors';
import { makeDirectories, replacePrivately } from './make-directories.js';

const KEY_BYTES = 32;
const MAC = /^[0-9a-f]{64}$/;

/**
 * Where the scan cache's key is kept unless the caller says: in the user's cache directory,
 * `$XDG_CACHE_HOME/custos/scan-cache.key` (an absolute `XDG_CACHE_HOME`) or
 * `~/.cache/custos/scan-cache.key`, outside any tree being scanned, so that a cache file
 * committed or altered in a tree cannot be authenticated; `undefined` when the user has no home
 * directory.
 *
 * @example
 * ```ts
 * defaultCacheKeyFile({ XDG_CACHE_HOME: '/ci/cache' }); // "/ci/cache/custos/scan-cache.key"
 * ```
 */
export function defaultCacheKeyFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'custos', 'scan-cache.key');
  try {
    return join(homedir(), '.cache', 'custos', 'scan-cache.key');
  } catch {
    return undefined;
  }
}

/**
 * The cache key in `file`, or `undefined` when there is none (missing, unreadable, not 32
 * bytes): then no cache is trusted.
 *
 * @example
 * ```ts
 * const key = await readCacheKey(defaultCacheKeyFile());
 * ```
 */
export async function readCacheKey(file: string | undefined): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    const key = await readFile(file);
    return key.length === KEY_BYTES ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cache key in `file`, made first when there is none: 32 random bytes, the file 0600 in a
 * directory made 0700. Fails with `ERR_SCAN_CACHE` naming the file when it cannot be made.
 *
 * @example
 * ```ts
 * const key = await ensureCacheKey('/home/ada/.cache/custos/scan-cache.key');
 * ```
 */
export async function ensureCacheKey(file: string | undefined): Promise<Buffer> {
  if (file === undefined) {
    throw new CustosError(
      'ERR_SCAN_CACHE',
      'no place for the scan cache key: set HOME or an absolute XDG_CACHE_HOME',
    );
  }
  const existing = await readCacheKey(file);
  if (existing !== undefined) return existing;
  const key = randomBytes(KEY_BYTES);
  try {
    await makeDirectories(dirname(file), 0o700);
    try {
      await writeFile(file, key, { flag: 'wx', mode: 0o600 });
      return key;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // Another run made it meanwhile, or a damaged one is there: use the first, replace the other.
    const made = await readCacheKey(file);
    if (made !== undefined) return made;
    await replacePrivately(file, key);
    return key;
  } catch (err) {
    throw new CustosError(
      'ERR_SCAN_CACHE',
      `cannot create the scan cache key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Whether the key file lies inside one of `trees` (the scanned root and paths): a key there may
 * have come with the tree, as may a cache made with it, so no cache is trusted with it.
 *
 * @example
 * ```ts
 * keyInTrees('/repo/.cache/custos/scan-cache.key', ['/repo']); // true
 * ```
 */
export function keyInTrees(keyFile: string | undefined, trees: readonly string[]): boolean {
  if (keyFile === undefined) return false;
  // By real paths: a link on the way (XDG_CACHE_HOME through a link into the tree) would
  // otherwise hide that the key lies inside it.
  const real = realPathOf(keyFile);
  return trees.some((tree) => {
    const rel = relative(realPathOf(tree), real);
    return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
  });
}

/**
 * `path` with every link resolved: its deepest existing ancestor's real path, then the rest as
 * written (a key file not made yet has no real path of its own).
 */
function realPathOf(path: string): string {
  const absolute = resolve(path);
  let existing = absolute;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(existing), ...rest);
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return absolute;
      rest.unshift(basename(existing));
      existing = parent;
    }
  }
}

/**
 * The MAC of a scan cache's content (HMAC-SHA256 under its key), hex.
 *
 * @example
 * ```ts
 * const mac = cacheMac(key, text);
 * ```
 */
export function cacheMac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/**
 * Whether `mac` is the MAC of `text` under `key`, compared in constant time.
 *
 * @example
 * ```ts
 * if (!macMatches(key, text, file.mac)) entries = {};
 * ```
 */
export function macMatches(key: Buffer, text: string, mac: unknown): boolean {
  if (typeof mac !== 'string' || !MAC.test(mac)) return false;
  return timingSafeEqual(Buffer.from(cacheMac(key, text), 'hex'), Buffer.from(mac, 'hex'));
}
