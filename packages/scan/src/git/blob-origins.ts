import { readableName } from '../files/readable-name.js';
import { forEachRawEntry, RAW_LOG_FORMAT } from './raw-log.js';
import { runGit } from './run-git.js';

/** A path a blob had in history, with the commit that introduced it there. */
export interface BlobPlace {
  readonly path: string;
  /** Its rank in history (oldest first, across every blob): findings are merged in this order. */
  readonly order: number;
  /**
   * The commit that introduced the blob at this path, its author and date (unknown for a blob
   * no commit holds: one in a tree a tag points at).
   */
  readonly commit?: string;
  readonly author?: string;
  readonly date?: string;
}

/** A blob of history and every path it had. */
export interface BlobOrigin {
  readonly blob: string;
  /** Each path the blob had, once, oldest first. */
  readonly places: readonly BlobPlace[];
}

const EMPTY_BLOB = /^0+$/;
/** Paths of one blob past which they are looked up in a set rather than one by one. */
const MANY_PATHS = 8;

/**
 * Every blob of the revisions `revisions` (e.g. `--all`, or a branch and `^since`), each once,
 * oldest first, with every path it had and the commit, author and date that introduced it at
 * each (a copy or a move adds a path, and so does a merge resolution): `git log --reverse
 * --raw --diff-merges=first-parent` gives the introductions, `git rev-list --objects` any blob
 * no commit holds (under the one path it names). Paths are named as directory scans name them
 * (`readableName`: `caf\xe9.env`).
 *
 * @example
 * ```ts
 * const origins = await blobOrigins(['--all'], '.');
 * ```
 */
export async function blobOrigins(
  revisions: readonly string[],
  cwd: string,
): Promise<BlobOrigin[]> {
  const log = await runGit(
    [
      'log',
      '--reverse',
      ...RAW_LOG_FORMAT,
      // A merge is shown against its first parent: every (blob, path) pair of a commit's tree
      // is then in its first parent's tree or shown, a path only a merge resolution made too.
      '--diff-merges=first-parent',
      '--no-renames',
      ...revisions,
      '--',
    ],
    cwd,
  );
  const origins = new Map<string, BlobPlace[]>();
  // A blob with many paths (a file copied all over a monorepo) is looked up in a set of them.
  const manyPaths = new Map<string, Set<string>>();
  const hasPath = (blob: string, places: readonly BlobPlace[], path: string) => {
    if (places.length < MANY_PATHS) return places.some((place) => place.path === path);
    let paths = manyPaths.get(blob);
    if (paths === undefined) {
      paths = new Set(places.map((place) => place.path));
      manyPaths.set(blob, paths);
    }
    if (paths.has(path)) return true;
    paths.add(path);
    return false;
  };
  let order = 0;
  forEachRawEntry(log, (commit, { blob, mode, status, path }) => {
    if (status === 'D' || mode === '160000' || EMPTY_BLOB.test(blob)) return;
    const places = origins.get(blob);
    if (places === undefined) origins.set(blob, [{ path, order: order++, ...(commit ?? {}) }]);
    else if (!hasPath(blob, places, path)) places.push({ path, order: order++, ...(commit ?? {}) });
  });
  const objects = await runGit(
    ['rev-list', '--objects', '--filter=object:type=blob', ...revisions, '--'],
    cwd,
  );
  // `oid path` lines, the path as its bytes.
  for (let start = 0; start < objects.length; ) {
    let end = objects.indexOf(0x0a, start);
    if (end < 0) end = objects.length;
    const space = objects.indexOf(0x20, start);
    if (space >= 0 && space < end) {
      const blob = objects.toString('latin1', start, space);
      const path = readableName(objects.subarray(space + 1, end));
      if (!origins.has(blob)) origins.set(blob, [{ path, order: order++ }]);
    }
    start = end + 1;
  }
  return [...origins].map(([blob, places]) => ({ blob, places }));
}
