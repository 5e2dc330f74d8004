import { spawn } from 'node:child_process';
import { CustosError } from '@custos/core/errors';

/**
 * The environment of every git process the scanner starts: this process's, with replacement
 * objects ignored. A `refs/replace` ref swaps a blob's content for another's whenever git reads
 * it, while `git push` still sends the original: a scan that honoured one would judge content
 * the repository does not carry.
 *
 * @example
 * ```ts
 * spawn('git', ['cat-file', '--batch'], { cwd, env: gitEnvironment() });
 * ```
 */
export function gitEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_NO_REPLACE_OBJECTS: '1' };
}

/**
 * Runs `git args…` in `cwd` and returns its standard output. A failure is `ERR_SCAN_GIT` with
 * git's first line of complaint (paths and revisions, never file contents).
 */
export async function runGit(args: readonly string[], cwd: string): Promise<Buffer> {
  const out: Buffer[] = [];
  await streamGit(args, cwd, (chunk) => out.push(chunk));
  return Buffer.concat(out);
}

/**
 * Runs `git args…` in `cwd`, handing its standard output to `onData` as it comes (for output
 * that need not be held whole); fails as {@link runGit} does, or with what `onData` throws
 * (git is then stopped).
 *
 * @example
 * ```ts
 * let bytes = 0;
 * await streamGit(['diff', '--cached'], '.', (chunk) => { bytes += chunk.length; });
 * ```
 */
export function streamGit(
  args: readonly string[],
  cwd: string,
  onData: (chunk: Buffer) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: gitEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let thrown: { readonly error: unknown } | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (thrown !== undefined) return;
      try {
        onData(chunk);
      } catch (error) {
        thrown = { error };
        child.kill();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 2000) err += chunk.toString('utf8');
    });
    child.once('error', () =>
      reject(gitFailed(args, 'git could not be started (is it installed?)')),
    );
    child.once('close', (code) => {
      if (thrown !== undefined) reject(thrown.error);
      else if (code === 0) resolve();
      else reject(gitFailed(args, err.split('\n')[0] ?? ''));
    });
  });
}

/** The error for a failed git command. */
export function gitFailed(args: readonly string[], reason: string): CustosError {
  return new CustosError('ERR_SCAN_GIT', `git ${subcommand(args)} failed: ${reason.trim()}`);
}

/** The git command of `args`, past any `-c name=value` settings. */
function subcommand(args: readonly string[]): string {
  let i = 0;
  while (args[i] === '-c') i += 2;
  return args[i] ?? '';
}

/** Refuses a revision or branch that git would read as an option. */
export function checkRevision(revision: string, what: string): string {
  if (revision.length === 0 || revision.startsWith('-') || /[\0\n]/.test(revision)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} is not a revision git accepts`);
  }
  return revision;
}
