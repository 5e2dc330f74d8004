import { readdir, readFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { joinBytes, toPosix } from './path-bytes.js';
import { readableName } from './readable-name.js';

/** An ignore file's text, or null when there is none. */
export async function readIgnoreFile(path: Buffer | string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

interface IgnoreScope {
  readonly base: string;
  readonly matcher: Ignore;
}

const GIT = Buffer.from('.git');

/**
 * Walks `dir` without git: `.gitignore` files at every level apply below them; `.git` is
 * skipped, and so is anything that is neither a regular file nor a directory (symbolic links
 * are not followed). Paths are bytes, so names that are not UTF-8 are found and kept exactly;
 * ignore rules match their readable form (see `readableName`).
 *
 * @example
 * ```ts
 * const files = await walk(Buffer.from('/repo/src'), true);
 * ```
 */
export async function walk(dir: Buffer, useGitignore: boolean): Promise<Buffer[]> {
  const files: Buffer[] = [];
  const visit = async (current: Buffer, shown: string, scopes: IgnoreScope[]) => {
    const here = useGitignore ? await readIgnoreFile(joinBytes(current, '.gitignore')) : null;
    const active =
      here === null ? scopes : [...scopes, { base: shown, matcher: ignore().add(here) }];
    const entries = await readdir(current, { withFileTypes: true, encoding: 'buffer' });
    for (const entry of entries) {
      const { name } = entry;
      if (name.equals(GIT)) continue;
      const isDirectory = entry.isDirectory();
      if (!isDirectory && !entry.isFile()) continue;
      const path = joinBytes(current, name);
      const pathShown = `${shown}${sep}${readableName(name)}`;
      const ignored = active.some(({ base, matcher }) =>
        matcher.ignores(toPosix(relative(base, pathShown)) + (isDirectory ? '/' : '')),
      );
      if (ignored) continue;
      if (isDirectory) await visit(path, pathShown, active);
      else files.push(path);
    }
  };
  await visit(dir, readableName(dir), []);
  return files;
}
