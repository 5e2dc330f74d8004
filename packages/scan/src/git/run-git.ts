import { spawn } from 'node:child_process';
import { CustosError } from '@custos/core/errors';

/**
 * Runs `git args…` in `cwd` and returns its standard output. A failure is `ERR_SCAN_GIT` with
 * git's first line of complaint (paths and revisions, never file contents).
 */
export function runGit(args: readonly string[], cwd: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 2000) err += chunk.toString('utf8');
    });
    child.once('error', () =>
      reject(gitFailed(args, 'git could not be started (is it installed?)')),
    );
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
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
