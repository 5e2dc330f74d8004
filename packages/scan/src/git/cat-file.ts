import { spawn } from 'node:child_process';
import { gitFailed } from './run-git.js';

/** One object read by {@link readObjects}. */
export interface GitObject {
  /** What was asked for (an object id, or `:path` for the index). */
  readonly request: string;
  /** `null` when git reports the object missing. */
  readonly content: Buffer | null;
}

/**
 * Reads objects with one `git cat-file --batch` process, in the order asked, and hands each to
 * `onObject` as it arrives (so a history of any size streams through constant memory).
 */
export function readObjects(
  requests: readonly string[],
  cwd: string,
  onObject: (object: GitObject) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let pending: Buffer = Buffer.alloc(0);
    let index = 0;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      child.kill();
      reject(error);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const newline = pending.indexOf(10);
        if (newline < 0) return;
        const header = pending.toString('utf8', 0, newline);
        const request = requests[index] ?? '';
        if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
          pending = pending.subarray(newline + 1);
          index++;
          onObject({ request, content: null });
          continue;
        }
        const size = Number(header.slice(header.lastIndexOf(' ') + 1));
        if (!Number.isSafeInteger(size)) return fail(gitFailed(['cat-file'], 'unexpected output'));
        if (pending.length < newline + 1 + size + 1) return;
        const content = Buffer.from(pending.subarray(newline + 1, newline + 1 + size));
        pending = pending.subarray(newline + 1 + size + 1);
        index++;
        onObject({ request, content });
      }
    });
    child.stderr.resume();
    child.once('error', () => fail(gitFailed(['cat-file'], 'git could not be started')));
    child.once('close', (code) => {
      if (failed) return;
      if (code === 0 && index === requests.length) resolve();
      else fail(gitFailed(['cat-file'], `exit code ${code}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(requests.map((request) => `${request}\n`).join(''));
  });
}
