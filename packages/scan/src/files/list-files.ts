import { isUtf8 } from 'node:buffer';
import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import ignore from 'ignore';
import { gitFiles } from './git-files.js';
import { toPosix } from './path-bytes.js';
import { readableName } from './readable-name.js';
import { readIgnoreFile, walk } from './walk.js';

/**
 * A file to scan: where it is, and its path relative to the scanned root (with `/`; absolute
 * for a file outside the root).
 */
export interface ListedFile {
  readonly absolute: string;
  readonly relative: string;
  /**
   * The path's exact bytes, when they are not UTF-8: `absolute` and `relative` then show each
   * byte that is not part of a UTF-8 character as `\xNN` (see `readableName`), and the file is
   * read by these bytes.
   */
  readonly rawPath?: Uint8Array;
}

/** Options of {@link listFiles}. */
export interface ListFilesOptions {
  /** Findings and ignore files are relative to this directory (default: the current one). */
  readonly root?: string;
  /** Follow `.gitignore` (default true). `.custosignore` is always followed. */
  readonly gitignore?: boolean;
}

/**
 * The files under `paths`: inside a git work tree what `git ls-files --cached --others
 * --exclude-standard` lists (so every `.gitignore`, `.git/info/exclude` and the global excludes
 * apply), with the files of repositories inside it (untracked ones and checked-out submodules)
 * listed by their own rules; elsewhere a walk that follows `.gitignore` files; then
 * `.custosignore` (gitignore syntax) at the root. Only regular files are listed: symbolic links
 * found in a directory are not followed. A file named explicitly is always listed (a symbolic
 * link named so is followed, to a regular file or a directory; anything else is
 * `ERR_INVALID_ARGUMENT`). Names that are not UTF-8 are listed too (see {@link ListedFile}).
 *
 * @example
 * ```ts
 * const files = await listFiles(['.'], { root: process.cwd() });
 * ```
 */
export async function listFiles(
  paths: readonly string[],
  options: ListFilesOptions = {},
): Promise<ListedFile[]> {
  const root = resolve(options.root ?? '.');
  const useGitignore = options.gitignore ?? true;
  const custosIgnore = ignore().add((await readIgnoreFile(join(root, '.custosignore'))) ?? '');
  const seen = new Map<string, ListedFile>();
  const add = (path: Buffer, explicit: boolean) => {
    const text = isUtf8(path);
    const absolute = text ? path.toString('utf8') : readableName(path);
    const rel = toPosix(relative(root, absolute));
    const inside = rel !== '' && !rel.startsWith('../') && !rel.startsWith('/');
    if (!explicit && inside && custosIgnore.ignores(rel)) return;
    // A file outside the root is named by its absolute path: never a `../` path that reads as
    // under the root to whoever joins it to the root (a SARIF upload, a baseline).
    seen.set(path.toString('latin1'), {
      absolute,
      relative: inside ? rel : toPosix(absolute),
      // A copy of its own: a view of a larger buffer would take all of it to a worker thread.
      ...(text ? {} : { rawPath: new Uint8Array(path) }),
    });
  };
  for (const path of paths) {
    const absolute = resolve(root, path);
    // Named by the user: a symbolic link is followed, to a regular file or a directory only (a
    // FIFO or a device would block the read, or never end).
    const info = await stat(absolute);
    if (info.isFile()) {
      add(Buffer.from(absolute), true);
      continue;
    }
    if (!info.isDirectory()) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${path} is not a regular file or a directory`);
    }
    const dir = Buffer.from(absolute);
    const listed = (useGitignore ? await gitFiles(dir) : null) ?? (await walk(dir, useGitignore));
    for (const file of listed) add(file, false);
  }
  return [...seen.values()].sort((a, b) =>
    a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0,
  );
}
