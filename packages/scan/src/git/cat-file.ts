import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { gitEnvironment, gitFailed } from './run-git.js';

/** One object read by {@link readObjects} or an {@link ObjectReader}. */
export interface GitObject {
  /** What was asked for (an object id, or `:path` for the index). */
  readonly request: string;
  /** `null` when git reports the object missing. */
  readonly content: Buffer | null;
}

/**
 * A `git cat-file --batch` process with its output parsed: `onObject` gets each object's
 * content (`null` when missing) in the order asked; `onFailure` once, if git fails or says
 * what cannot be parsed.
 */
function startBatch(
  cwd: string,
  onObject: (content: Buffer | null) => void,
  onFailure: (error: Error) => void,
): ChildProcessWithoutNullStreams {
  const child = spawn('git', ['cat-file', '--batch'], {
    cwd,
    env: gitEnvironment(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  /** Bytes read and not yet parsed; they start at an object's header line. */
  let pending: Buffer = Buffer.alloc(0);
  /**
   * While an object's body is still coming: `pending` and the chunks after it, joined once the
   * object is whole. (Joining at every chunk copied a large blob over and over: a 20 MB blob in
   * history took 20 s, nearly all of it copying.)
   */
  let parts: Buffer[] = [];
  let partsBytes = 0;
  /** How many bytes `parts` must hold before the object at their start is whole. */
  let needed = 0;
  let failed = false;
  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    child.kill();
    onFailure(error);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    if (parts.length > 0) {
      parts.push(chunk);
      partsBytes += chunk.length;
      if (partsBytes < needed) return;
      pending = Buffer.concat(parts, partsBytes);
      parts = [];
      partsBytes = 0;
    } else {
      // Only a header line can be left over here: a few bytes.
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    }
    for (;;) {
      const newline = pending.indexOf(10);
      if (newline < 0) return;
      const header = pending.toString('utf8', 0, newline);
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        pending = pending.subarray(newline + 1);
        onObject(null);
        continue;
      }
      const size = Number(header.slice(header.lastIndexOf(' ') + 1));
      if (!Number.isSafeInteger(size)) return fail(gitFailed(['cat-file'], 'unexpected output'));
      if (pending.length < newline + 1 + size + 1) {
        needed = newline + 1 + size + 1;
        parts = [pending];
        partsBytes = pending.length;
        return;
      }
      const content = Buffer.from(pending.subarray(newline + 1, newline + 1 + size));
      pending = pending.subarray(newline + 1 + size + 1);
      onObject(content);
    }
  });
  child.stderr.resume();
  child.once('error', () => fail(gitFailed(['cat-file'], 'git could not be started')));
  child.stdin.on('error', () => {});
  return child;
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
    let index = 0;
    let failed = false;
    const child = startBatch(
      cwd,
      (content) => onObject({ request: requests[index++] ?? '', content }),
      (error) => {
        failed = true;
        reject(error);
      },
    );
    child.once('close', (code) => {
      if (failed) return;
      if (code === 0 && index === requests.length) resolve();
      else reject(gitFailed(['cat-file'], `exit code ${code}`));
    });
    child.stdin.end(requests.map((request) => `${request}\n`).join(''));
  });
}

/** A `git cat-file --batch` process kept open, asked for objects a batch at a time. */
export interface ObjectReader {
  /** The objects asked for, in order; several reads may be under way at once. */
  read(requests: readonly string[]): Promise<GitObject[]>;
  /** Ends the process (after the reads under way); rejects if git failed. */
  close(): Promise<void>;
}

/**
 * Opens an {@link ObjectReader}: for a thread that claims its share of blobs as it goes, so
 * several threads each read with a git process of their own.
 *
 * @example
 * ```ts
 * const reader = openObjectReader('.');
 * try {
 *   const [object] = await reader.read([blobId]);
 * } finally {
 *   await reader.close();
 * }
 * ```
 */
export function openObjectReader(cwd: string): ObjectReader {
  const waiting: Array<{
    readonly request: string;
    readonly resolve: (object: GitObject) => void;
    readonly reject: (error: Error) => void;
  }> = [];
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const read of waiting.splice(0)) read.reject(error);
  };
  const child = startBatch(
    cwd,
    (content) => {
      const read = waiting.shift();
      if (read === undefined) return failAll(gitFailed(['cat-file'], 'an object no one asked for'));
      read.resolve({ request: read.request, content });
    },
    failAll,
  );
  const closed = new Promise<void>((resolve, reject) => {
    child.once('close', (code) => {
      if (code !== 0 || waiting.length > 0) failAll(gitFailed(['cat-file'], `exit code ${code}`));
      if (failure === undefined) resolve();
      else reject(failure);
    });
  });
  // Rejections reach the reads and close(); this keeps an unawaited one from being unhandled.
  closed.catch(() => {});
  return {
    read(requests) {
      if (failure !== undefined) return Promise.reject(failure);
      const objects = requests.map(
        (request) =>
          new Promise<GitObject>((resolve, reject) => waiting.push({ request, resolve, reject })),
      );
      child.stdin.write(requests.map((request) => `${request}\n`).join(''));
      return Promise.all(objects);
    },
    close() {
      child.stdin.end();
      return closed;
    },
  };
}
