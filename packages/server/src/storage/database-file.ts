import { lstatSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';

/** The files SQLite keeps for a database: the file itself, its write-ahead log and shared memory. */
const COMPANIONS = ['', '-wal', '-shm'] as const;

function statIfPresent(path: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const insecure = (message: string) => new CustosError('ERR_INSECURE_FILE', `storage: ${message}`);
const modeOf = (info: Stats) => (info.mode & 0o777).toString(8).padStart(3, '0');

/**
 * Refuses a SQLite storage location that other users could roll back, replace or delete (the
 * entries are barrier-encrypted, but a copy put back later, or a deleted file, is not something
 * encryption detects):
 * - the database file, or its `-wal` or `-shm` file, is a symbolic link (whoever owns the link
 *   decides where the data goes), not a regular file, owned by another user, or readable or
 *   writable by group or others (`chmod 600`);
 * - its directory, or any directory above it, is writable by group or others without the
 *   sticky bit (`chmod 700`): anyone who may write there may swap the files.
 *
 * Files that do not exist yet pass: the server creates them owner-only. POSIX only: on Windows
 * the checks are skipped (no modes or owners to read).
 *
 * @example
 * ```ts
 * checkDatabaseFile('/var/lib/custos/custos.db'); // throws ERR_INSECURE_FILE for a 0666 file
 * ```
 */
export function checkDatabaseFile(path: string): void {
  if (process.platform === 'win32') return;
  // Every directory on the way (through links: /tmp may be one): whoever may write to one can
  // move what is below it aside and put something else in its place.
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const info = statIfPresent(dir, true);
    if (info !== undefined && (info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0)
      throw insecure(
        `the directory ${dir} of ${path} may be written by other users (mode ${modeOf(info)}, no sticky bit), who could replace or delete the database; run chmod 700 ${dir}`,
      );
    if (dirname(dir) === dir) break;
  }
  for (const suffix of COMPANIONS) {
    const file = `${path}${suffix}`;
    const info = statIfPresent(file, false);
    if (info === undefined) continue;
    if (info.isSymbolicLink())
      throw insecure(
        `${file} is a symbolic link; give the path of the database file itself (a link lets its owner move the data)`,
      );
    if (!info.isFile()) throw insecure(`${file} is not a regular file`);
    if (info.uid !== process.getuid?.())
      throw insecure(
        `${file} belongs to another user (uid ${info.uid}); the user the server runs as must own it (chown)`,
      );
    if ((info.mode & 0o077) !== 0)
      throw insecure(
        `${file} may be read or written by other users (mode ${modeOf(info)}); run chmod 600 ${file}`,
      );
  }
}
