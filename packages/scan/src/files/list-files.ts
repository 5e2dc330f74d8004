import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { CustosError } from '@custos/core/errors';
import ignore, { type Ignore } from 'ignore';

const run = promisify(execFile);

/** A file to scan: where it is, and its path relative to the scanned root (with `/`). */
export interface ListedFile {
  readonly absolute: string;
  readonly relative: string;
}

/** Options of {@link listFiles}. */
export interface ListFilesOptions {
  /** Findings and ignore files are relative to this directory (default: the current one). */
  readonly root?: string;
  /** Follow `.gitignore` (default true). `.custosignore` is always followed. */
  readonly gitignore?: boolean;
}

const toPosix = (path: string) => (sep === '/' ? path : path.split(sep).join('/'));

/** What `git ls-files` lists in `dir` (tracked and untracked, minus ignored), or null outside a repository. */
async function gitListed(dir: string): Promise<string[] | null> {
  try {
    const { stdout } = await run(
      'git',
      ['-C', dir, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { maxBuffer: 1 << 30 },
    );
    return [...new Set(stdout.split('\0').filter((path) => path.length > 0))];
  } catch {
    return null;
  }
}

/**
 * The regular files of `dir` as git would track them, or null outside a repository. git lists a
 * repository inside this one (an untracked one as `lib/`, a submodule as its gitlink) as a
 * directory: its files are listed by its own ignore rules, as a scan of it alone would list
 * them (a submodule that is not checked out holds nothing).
 */
async function gitFiles(dir: string): Promise<string[] | null> {
  const listed = await gitListed(dir);
  if (listed === null) return null;
  const files: string[] = [];
  for (const name of listed) {
    const path = join(dir, name);
    // Not followed, as the walk does not follow them: a tracked link may point out of the tree,
    // at a FIFO or at a device.
    const info = await lstat(path).catch(() => null);
    if (info?.isFile()) files.push(path);
    else if (info?.isDirectory()) files.push(...(await nestedFiles(path)));
  }
  return files;
}

/** The files of a repository inside another: git's list when it is one, else a walk. */
async function nestedFiles(dir: string): Promise<string[]> {
  const isRepository = await lstat(join(dir, '.git')).then(
    () => true,
    () => false,
  );
  return (isRepository ? await gitFiles(dir) : null) ?? (await walk(dir, true));
}

async function readIgnoreFile(path: string): Promise<string | null> {
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

/** Walks `dir` without git: `.gitignore` files at every level apply below them; `.git` is skipped. */
async function walk(dir: string, useGitignore: boolean): Promise<string[]> {
  const files: string[] = [];
  const visit = async (current: string, scopes: IgnoreScope[]) => {
    const here = useGitignore ? await readIgnoreFile(join(current, '.gitignore')) : null;
    const active =
      here === null ? scopes : [...scopes, { base: current, matcher: ignore().add(here) }];
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const path = join(current, entry.name);
      const isDirectory = entry.isDirectory();
      if (!isDirectory && !entry.isFile()) continue;
      const ignored = active.some(({ base, matcher }) =>
        matcher.ignores(toPosix(relative(base, path)) + (isDirectory ? '/' : '')),
      );
      if (ignored) continue;
      if (isDirectory) await visit(path, active);
      else files.push(path);
    }
  };
  await visit(dir, []);
  return files;
}

/**
 * The files under `paths`: inside a git work tree what `git ls-files --cached --others
 * --exclude-standard` lists (so every `.gitignore`, `.git/info/exclude` and the global excludes
 * apply), with the files of repositories inside it (untracked ones and checked-out submodules)
 * listed by their own rules; elsewhere a walk that follows `.gitignore` files; then
 * `.custosignore` (gitignore syntax) at the root. Only regular files are listed: symbolic links found in a directory are
 * not followed. A file named explicitly is always listed (a symbolic link named so is followed,
 * to a regular file or a directory; anything else is `ERR_INVALID_ARGUMENT`).
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
  const add = (absolute: string, explicit: boolean) => {
    const rel = toPosix(relative(root, absolute));
    const inside = rel !== '' && !rel.startsWith('../') && !rel.startsWith('/');
    if (!explicit && inside && custosIgnore.ignores(rel)) return;
    seen.set(absolute, { absolute, relative: rel });
  };
  for (const path of paths) {
    const absolute = resolve(root, path);
    // Named by the user: a symbolic link is followed, to a regular file or a directory only (a
    // FIFO or a device would block the read, or never end).
    const info = await stat(absolute);
    if (info.isFile()) {
      add(absolute, true);
      continue;
    }
    if (!info.isDirectory()) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${path} is not a regular file or a directory`);
    }
    const listed = useGitignore ? await gitFiles(absolute) : null;
    if (listed === null) {
      for (const file of await walk(absolute, useGitignore)) add(file, false);
      continue;
    }
    for (const file of listed) add(file, false);
  }
  return [...seen.values()].sort((a, b) =>
    a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0,
  );
}
