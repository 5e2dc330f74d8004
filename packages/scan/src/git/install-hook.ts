import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import { runGit } from './run-git.js';

/** The pre-commit hook `installPreCommitHook` writes. */
export const PRE_COMMIT_HOOK = `#!/bin/sh
# Installed by \`custos scan install-hook\`: refuses a commit that adds a secret.
# Skip once with \`git commit --no-verify\`; silence a line with a custos-ignore comment.
exec npx --no-install custos scan --staged
`;

/**
 * Writes the git pre-commit hook that runs `custos scan --staged` (into the repository's hooks
 * directory, `core.hooksPath` honoured). An existing hook is kept unless `force` is set.
 *
 * @example
 * ```ts
 * const path = await installPreCommitHook({ repository: '.' });
 * ```
 */
export async function installPreCommitHook(
  options: { repository?: string; force?: boolean } = {},
): Promise<string> {
  const cwd = resolve(options.repository ?? '.');
  const relative = (await runGit(['rev-parse', '--git-path', 'hooks/pre-commit'], cwd))
    .toString('utf8')
    .trim();
  const path = resolve(cwd, relative);
  const existing = await readFile(path, 'utf8').catch(() => null);
  if (existing !== null && existing !== PRE_COMMIT_HOOK && options.force !== true) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${path} exists; pass --force to replace it`);
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, PRE_COMMIT_HOOK);
  await chmod(path, 0o755);
  return path;
}
