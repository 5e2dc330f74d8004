import { execFileSync } from 'node:child_process';

/**
 * Runs git in `cwd` as a fixed author, with the machine's own git settings ignored, and returns
 * its output trimmed. `env` adds to the environment (a commit date, say).
 *
 * @example
 * ```ts
 * gitIn(repo, ['commit', '-q', '-m', 'add config'], { GIT_COMMITTER_DATE: date });
 * ```
 */
export function gitIn(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'ada@example.org',
      GIT_COMMITTER_NAME: 'Ada',
      GIT_COMMITTER_EMAIL: 'ada@example.org',
      GIT_CONFIG_GLOBAL: '/dev/null',
      ...env,
    },
  })
    .toString()
    .trim();
}
