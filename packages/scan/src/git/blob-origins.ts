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
 * no commit holds (under the one path it names).
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
      '--format=%x01%H%x02%an%x02%aI',
      '--raw',
      // A merge is shown against its first parent: every (blob, path) pair of a commit's tree
      // is then in its first parent's tree or shown, a path only a merge resolution made too.
      '--diff-merges=first-parent',
      '--no-abbrev',
      '--no-renames',
      '-z',
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
  const tokens = log.toString('utf8').split('\0');
  let commit: { commit: string; author: string; date: string } | null = null;
  let order = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = (tokens[i] as string).replace(/^\n+/, '');
    if (token.startsWith('\x01')) {
      const [id = '', author = '', date = ''] = token.slice(1).split('\x02');
      commit = { commit: id, author, date };
    } else if (token.startsWith(':')) {
      const path = tokens[++i] ?? '';
      const [, newMode = '', , blob = '', status = ''] = token.slice(1).split(' ');
      if (status === 'D' || newMode === '160000' || EMPTY_BLOB.test(blob)) continue;
      const places = origins.get(blob);
      if (places === undefined) origins.set(blob, [{ path, order: order++, ...(commit ?? {}) }]);
      else if (!hasPath(blob, places, path))
        places.push({ path, order: order++, ...(commit ?? {}) });
    }
  }
  const objects = await runGit(
    ['rev-list', '--objects', '--filter=object:type=blob', ...revisions, '--'],
    cwd,
  );
  for (const line of objects.toString('utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const blob = line.slice(0, space);
    if (!origins.has(blob)) origins.set(blob, [{ path: line.slice(space + 1), order: order++ }]);
  }
  return [...origins].map(([blob, places]) => ({ blob, places }));
}
