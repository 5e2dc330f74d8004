import { execFileSync } from 'node:child_process';

/**
 * Runs git in `cwd` as a fixed author, with the machine's own git settings ignored, and returns
 * its output trimmed: the repositories the scanner's CLI tests build.
 *
 * @example
 * ```ts
 * gitIn(repo, ['commit', '-q', '-m', 'add config']);
 * ```
 */
export function gitIn(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'a@b',
      GIT_COMMITTER_NAME: 'Ada',
      GIT_COMMITTER_EMAIL: 'a@b',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  })
    .toString()
    .trim();
}
