import { isUtf8 } from 'node:buffer';
import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gitFailed } from '../git/run-git.js';
import { joinBytes } from './path-bytes.js';
import { walk } from './walk.js';

const run = promisify(execFile);

/** What git says (in English, `LC_ALL=C`) of a directory in no repository. */
const NOT_A_REPOSITORY = /^fatal: not a git repository\b/;

/**
 * What `git ls-files` lists in `dir` (tracked and untracked, minus ignored), each name as its
 * bytes; null when `dir` is in no repository, git is not installed, or `dir` is no UTF-8 path
 * git could be given. Any other failure of git (a repository it refuses, such as one owned by
 * another user: "detected dubious ownership") is `ERR_SCAN_GIT`: a walk would apply
 * `.gitignore` to files git tracks.
 */
async function gitListed(dir: Buffer): Promise<Buffer[] | null> {
  if (!isUtf8(dir)) return null;
  const path = dir.toString('utf8');
  let stdout: Buffer;
  try {
    ({ stdout } = await run(
      'git',
      ['-C', path, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      {
        encoding: 'buffer',
        maxBuffer: 1 << 30,
        // Messages untranslated, to tell "not a git repository" from a refusal.
        env: { ...process.env, LC_ALL: 'C', LANGUAGE: 'C' },
      },
    ));
  } catch (error) {
    const { code, stderr } = error as { code?: unknown; stderr?: Buffer };
    if (code === 'ENOENT') return null;
    const reason = stderr?.toString('utf8').split('\n')[0] ?? '';
    if (NOT_A_REPOSITORY.test(reason)) return null;
    throw gitFailed(['ls-files'], `${reason || `exit code ${String(code)}`} (listing ${path})`);
  }
  const names = new Map<string, Buffer>();
  for (
    let start = 0, end = stdout.indexOf(0);
    end >= 0;
    start = end + 1, end = stdout.indexOf(0, start)
  ) {
    // A repository inside this one is listed as a directory, `lib/`.
    const name = stdout.subarray(start, stdout[end - 1] === 0x2f ? end - 1 : end);
    if (name.length > 0) names.set(name.toString('latin1'), name);
  }
  return [...names.values()];
}

/**
 * The regular files of `dir` as git would track them (paths as bytes), or null outside a
 * repository (`ERR_SCAN_GIT` when git refuses the repository). git lists a repository inside this one (an untracked one as `lib/`, a submodule
 * as its gitlink) as a directory: its files are listed by its own ignore rules, as a scan of it
 * alone would list them (a submodule that is not checked out holds nothing).
 *
 * @example
 * ```ts
 * const files = (await gitFiles(Buffer.from('/repo'))) ?? (await walk(Buffer.from('/repo'), true));
 * ```
 */
export async function gitFiles(dir: Buffer): Promise<Buffer[] | null> {
  const listed = await gitListed(dir);
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

/** The files of a repository inside another: git's list when it is one, else a walk. */
async function nestedFiles(dir: Buffer): Promise<Buffer[]> {
  const isRepository = await lstat(joinBytes(dir, '.git')).then(
    () => true,
    () => false,
  );
  return (isRepository ? await gitFiles(dir) : null) ?? (await walk(dir, true));
}
