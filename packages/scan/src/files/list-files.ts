import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import ignore, { type Ignore } from 'ignore';

const run = promisify(execFile);

/**
 * A file to scan: where it is, and its path relative to the scanned root (with `/`; absolute
 * for a file outside the root).
 */
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

/** The files git would track in `dir` (tracked and untracked, minus ignored), or null outside a repository. */
async function gitFiles(dir: string): Promise<string[] | null> {
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
 * apply), elsewhere a walk that follows `.gitignore` files; then `.custosignore` (gitignore
 * syntax) at the root. A file named explicitly is always listed.
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
    // A file outside the root is named by its absolute path: never a `../` path that reads as
    // under the root to whoever joins it to the root (a SARIF upload, a baseline).
    seen.set(absolute, { absolute, relative: inside ? rel : toPosix(absolute) });
  };
  for (const path of paths) {
    const absolute = resolve(root, path);
    const info = await stat(absolute);
    if (info.isFile()) {
      add(absolute, true);
      continue;
    }
    const listed = useGitignore ? await gitFiles(absolute) : null;
    if (listed === null) {
      for (const file of await walk(absolute, useGitignore)) add(file, false);
      continue;
    }
    for (const file of listed) {
      const full = join(absolute, file);
      const fileInfo = await stat(full).catch(() => null);
      if (fileInfo?.isFile()) add(full, false);
    }
  }
  return [...seen.values()].sort((a, b) =>
    a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0,
  );
}
