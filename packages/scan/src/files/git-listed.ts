import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gitFailed } from '../git/run-git.js';

const run = promisify(execFile);

/** What git says (in English, `LC_ALL=C`) of a directory in no repository. */
const NOT_A_REPOSITORY = /^fatal: not a git repository\b/;
/** Variables that would point git at another repository or index than the one found on disk. */
const REPOSITORY_VARIABLES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_COMMON_DIR',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_CEILING_DIRECTORIES',
];

/**
 * The environment of a listing in the work tree `top`: the repository found from the listed
 * directory up to `top` (none above it: `GIT_CEILING_DIRECTORIES`), with `top` as its work tree whatever its
 * `core.worktree` says, and nothing inherited pointing elsewhere (a hook's `GIT_DIR` or
 * `GIT_INDEX_FILE`). git still checks the repository's owner, as only an explicit `GIT_DIR`
 * would skip that.
 */
function listingEnvironment(top: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  env.GIT_WORK_TREE = top;
  if (dirname(top) !== top) env.GIT_CEILING_DIRECTORIES = dirname(top);
  // As every git process of the scanner: objects as stored, never as `refs/replace` swaps them.
  env.GIT_NO_REPLACE_OBJECTS = '1';
  // Messages untranslated, to tell "not a git repository" from a refusal.
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  return env;
}

/**
 * What `git ls-files` lists in `path`, inside the work tree `top` (tracked and untracked, minus
 * ignored), each name as its bytes (a repository inside, untracked or a submodule, as a
 * directory); null when git finds no repository there or is not installed. Any other failure
 * of git (a repository it refuses, such as one owned by another user: "detected dubious
 * ownership") is `ERR_SCAN_GIT`: a walk would apply `.gitignore` to files git tracks.
 *
 * @example
 * ```ts
 * const names = await gitListed('/repo/src', '/repo');
 * ```
 */
export async function gitListed(path: string, top: string): Promise<Buffer[] | null> {
  let stdout: Buffer;
  try {
    ({ stdout } = await run(
      'git',
      [
        '-C',
        path,
        // A repository's config runs no command of its own (a nested one is anyone's).
        '-c',
        'core.fsmonitor=false',
        'ls-files',
        '-z',
        '--cached',
        '--others',
        '--exclude-standard',
      ],
      { encoding: 'buffer', maxBuffer: 1 << 30, env: listingEnvironment(top) },
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
