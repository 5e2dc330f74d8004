import { isUtf8 } from 'node:buffer';
import { lstat, realpath } from 'node:fs/promises';
import { gitListed } from './git-listed.js';
import { joinBytes } from './path-bytes.js';
import { walk } from './walk.js';
import { workTreeOf } from './work-tree.js';

/**
 * The regular files of `dir` as git would track them (paths as bytes), or null outside a work
 * tree (or when `dir` is no UTF-8 path git could be given); `ERR_SCAN_GIT` when git refuses the
 * repository. The work tree is the directory holding the repository's `.git`, whatever its
 * config says (`core.worktree`). git lists a repository inside this one (an untracked one as
 * `lib/`, a submodule as its gitlink) as a directory: its files are listed by its own ignore
 * rules, as they are on disk under it, as a scan of it alone would list them (a submodule that
 * is not checked out holds nothing).
 *
 * @example
 * ```ts
 * const files = (await gitFiles(Buffer.from('/repo'))) ?? (await walk(Buffer.from('/repo'), true));
 * ```
 */
export async function gitFiles(dir: Buffer): Promise<Buffer[] | null> {
  if (!isUtf8(dir)) return null;
  const top = await workTreeOf(dir.toString('utf8'));
  return top === null ? null : filesIn(dir, top);
}

/** The regular files of `dir`, inside the work tree `top`, and of the repositories inside it. */
async function filesIn(dir: Buffer, top: string): Promise<Buffer[] | null> {
  const listed = await gitListed(dir.toString('utf8'), top);
  if (listed === null) return null;
  const files: Buffer[] = [];
  for (const name of listed) {
    const path = joinBytes(dir, name);
    // Not followed, as the walk does not follow them: a tracked link may point out of the tree,
    // at a FIFO or at a device.
    const info = await lstat(path).catch(() => null);
    if (info?.isFile()) files.push(path);
    else if (info?.isDirectory()) files.push(...(await nestedFiles(path)));
  }
  return files;
}

/**
 * The files of a repository inside another (git lists it as one): git's list with the
 * directory itself as the work tree, else (no `.git`: a submodule not checked out; a name git
 * cannot be given) a walk.
 */
async function nestedFiles(dir: Buffer): Promise<Buffer[]> {
  const isRepository = await lstat(joinBytes(dir, '.git')).then(
    () => true,
    () => false,
  );
  const files =
    isRepository && isUtf8(dir) ? await filesIn(dir, await realpath(dir.toString('utf8'))) : null;
  return files ?? (await walk(dir, true));
}
