import { readableName } from '../files/readable-name.js';

/** The commit a `git log` entry belongs to. */
export interface LogCommit {
  readonly commit: string;
  readonly author: string;
  readonly date: string;
}

/** One file of a commit's `--raw` diff. */
export interface RawEntry {
  /** The blob after the change (all zeros when deleted). */
  readonly blob: string;
  readonly mode: string;
  /** `A`, `M`, `D`, `T`… */
  readonly status: string;
  /** The path as {@link readableName} shows its bytes. */
  readonly path: string;
}

/** The `git log` options whose output {@link forEachRawEntry} reads. */
export const RAW_LOG_FORMAT = ['--format=%x01%H%x02%an%x02%aI', '--raw', '--no-abbrev', '-z'];

const NUL = 0;
const NEWLINE = 0x0a;
const COMMIT_START = 0x01;
const ENTRY_START = 0x3a; // ':'

/**
 * Calls `onEntry` for each file of the output of `git log` with {@link RAW_LOG_FORMAT}, with
 * the commit it belongs to. Read as bytes: a path is named as directory scans name it
 * (`caf\xe9.env`), whatever bytes it holds.
 *
 * @example
 * ```ts
 * const log = await runGit(['log', ...RAW_LOG_FORMAT, '--all', '--'], '.');
 * forEachRawEntry(log, (commit, entry) => console.log(commit?.commit, entry.path));
 * ```
 */
export function forEachRawEntry(
  log: Buffer,
  onEntry: (commit: LogCommit | null, entry: RawEntry) => void,
): void {
  let commit: LogCommit | null = null;
  const tokenEnd = (start: number) => {
    const end = log.indexOf(NUL, start);
    return end < 0 ? log.length : end;
  };
  for (let start = 0; start < log.length; ) {
    // Each token (a commit's header, an entry's status) may follow a newline.
    while (log[start] === NEWLINE) start++;
    const end = tokenEnd(start);
    if (log[start] === COMMIT_START) {
      const [id = '', author = '', date = ''] = log.toString('utf8', start + 1, end).split('\x02');
      commit = { commit: id, author, date };
    } else if (log[start] === ENTRY_START && end < log.length) {
      // `:oldmode newmode oldblob newblob status`, then the path as the next token.
      const [, mode = '', , blob = '', status = ''] = log
        .toString('latin1', start + 1, end)
        .split(' ');
      const pathEnd = tokenEnd(end + 1);
      onEntry(commit, { blob, mode, status, path: readableName(log.subarray(end + 1, pathEnd)) });
      start = pathEnd + 1;
      continue;
    }
    start = end + 1;
  }
}
