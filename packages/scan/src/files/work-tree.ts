import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Whether `path` is a directory (following links, as git does). */
const isDirectory = (path: string) =>
  stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );

/**
 * Whether `dir` holds a `.git` that git would take for a repository: a file (a `gitdir:`
 * pointer, as in a submodule or a linked work tree; git refuses one it cannot read) or a
 * directory with `HEAD`, `objects/` and `refs/`.
 */
async function holdsRepository(dir: string): Promise<boolean> {
  const dotGit = join(dir, '.git');
  const info = await stat(dotGit).catch(() => null);
  if (info === null) return false;
  if (info.isFile()) return true;
  if (!info.isDirectory()) return false;
  const head = await stat(join(dotGit, 'HEAD')).catch(() => null);
  return (
    head?.isFile() === true &&
    (await isDirectory(join(dotGit, 'objects'))) &&
    (await isDirectory(join(dotGit, 'refs')))
  );
}

/**
 * The top of the work tree `dir` is in, found as git finds its repository (the nearest
 * directory from `dir` up that holds a `.git`) but never from what that repository's config
 * says (`core.worktree` may point anywhere): the directory holding the `.git`, by its real
 * path. Null when there is none, or when `dir` is inside a `.git` directory (no work tree).
 *
 * @example
 * ```ts
 * await workTreeOf('/repo/src'); // "/repo"
 * ```
 */
export async function workTreeOf(path: string): Promise<string | null> {
  for (let dir = await realpath(path); ; dir = dirname(dir)) {
    if (basename(dir) === '.git') return null;
    if (await holdsRepository(dir)) return dir;
    if (dirname(dir) === dir) return null;
  }
}
