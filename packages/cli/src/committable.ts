import { execFile } from 'node:child_process';
import { basename, dirname, resolve } from 'node:path';
import { warn } from './output.js';

/**
 * Warns on standard error when `file`, just written with key material, sits in a git working tree
 * without being git-ignored: one `git add .` from being committed. Says nothing outside a
 * repository or without git, since then nothing can be committed by accident.
 *
 * @example
 * ```ts
 * await writeKeyringFile('keyring.json', keyring);
 * await warnIfCommittable('keyring.json');
 * ```
 */
export async function warnIfCommittable(file: string): Promise<void> {
  const path = resolve(file);
  if (await isCommittable(path)) {
    warn(
      `warning: ${file} holds keys and is not git-ignored; add ${basename(path)} to .gitignore so it is never committed`,
    );
  }
}

/** `git check-ignore` exits 0 when ignored, 1 when not, 128 outside a repository. */
function isCommittable(path: string): Promise<boolean> {
  return new Promise((done) => {
    execFile('git', ['check-ignore', '-q', '--', path], { cwd: dirname(path) }, (error) => {
      done((error as { code?: unknown } | null)?.code === 1);
    });
  });
}
