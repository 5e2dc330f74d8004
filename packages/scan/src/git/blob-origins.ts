import { runGit } from './run-git.js';

/** Where a blob first appeared in history. */
export interface BlobOrigin {
  readonly blob: string;
  readonly path: string;
  /** The commit that introduced it there, its author and date (unknown for a blob only a merge holds). */
  readonly commit?: string;
  readonly author?: string;
  readonly date?: string;
}

const EMPTY_BLOB = /^0+$/;

/**
 * Every blob of the revisions `revisions` (e.g. `--all`, or a branch and `^since`), each once,
 * oldest first, with the commit, author and date that introduced it: `git log --reverse --raw`
 * gives the introductions, `git rev-list --objects` any blob only a merge resolution holds.
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
      '--no-abbrev',
      '--no-renames',
      '-z',
      ...revisions,
      '--',
    ],
    cwd,
  );
  const origins = new Map<string, BlobOrigin>();
  const tokens = log.toString('utf8').split('\0');
  let commit: { commit: string; author: string; date: string } | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = (tokens[i] as string).replace(/^\n+/, '');
    if (token.startsWith('\x01')) {
      const [id = '', author = '', date = ''] = token.slice(1).split('\x02');
      commit = { commit: id, author, date };
    } else if (token.startsWith(':')) {
      const path = tokens[++i] ?? '';
      const [, newMode = '', , blob = '', status = ''] = token.slice(1).split(' ');
      if (status === 'D' || newMode === '160000' || EMPTY_BLOB.test(blob) || origins.has(blob))
        continue;
      origins.set(blob, { blob, path, ...(commit ?? {}) });
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
    if (!origins.has(blob)) origins.set(blob, { blob, path: line.slice(space + 1) });
  }
  return [...origins.values()];
}
