import { constants } from 'node:fs';
import { type FileHandle, lstat, open, stat } from 'node:fs/promises';
import { CustosError } from '../errors/index.js';

/** What to do when a key file may be read by other users. */
export interface PrivateFileOptions {
  /** `refuse` (default) throws `ERR_INSECURE_FILE`; `warn` calls `onWarning` and goes on. */
  readonly permissions?: 'refuse' | 'warn';
  readonly onWarning?: (message: string) => void;
}

/**
 * Checks a file that holds key material before it is read: it must exist (`ERR_INVALID_ARGUMENT`
 * otherwise, so a mistyped path never starts an empty keyring) and be readable by its owner only
 * (mode 0600 or stricter; `ERR_INSECURE_FILE` otherwise). `what` names it in messages, such as
 * "keyring file". POSIX modes only: on Windows the mode check is skipped.
 *
 * @example
 * ```ts
 * await checkPrivateFile('keyring.json', 'keyring file');
 * ```
 */
export async function checkPrivateFile(
  path: string,
  what: string,
  options: PrivateFileOptions = {},
): Promise<void> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      err.code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${path}: ${err.code}`,
    );
  });
  if (!info.isFile())
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} ${path} is not a file`);
  if (process.platform === 'win32' || (info.mode & 0o077) === 0) return;
  const message = readableByOthers(what, path, info.mode);
  if ((options.permissions ?? 'refuse') === 'refuse') {
    throw new CustosError('ERR_INSECURE_FILE', message);
  }
  options.onWarning?.(message);
}

/**
 * `O_NOFOLLOW` refuses a symbolic link as the last part of the path (where the platform has it);
 * `O_NONBLOCK` keeps a FIFO planted under the name from blocking the open.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a file that holds key material, as {@link checkPrivateFile} checks one, and also refuses
 * a symbolic link (`ERR_INSECURE_FILE`): a link committed or planted under a key file's name
 * would have its target — another project's keys, a credential of the user — read as keys and
 * copied into the files written next. The checks and the read use one open file, so the path
 * cannot be swapped in between. Returns `undefined` when nothing exists at `path`.
 *
 * @example
 * ```ts
 * const text = await readPrivateFile('.env.keys', 'key file'); // undefined if there is none
 * ```
 */
export async function readPrivateFile(path: string, what: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    // Where O_NOFOLLOW does not exist (Windows), the link is looked for before opening.
    if (constants.O_NOFOLLOW === undefined && (await lstat(path)).isSymbolicLink()) {
      throw Object.assign(new Error('symbolic link'), { code: 'ELOOP' });
    }
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new CustosError(
        'ERR_INSECURE_FILE',
        `${what} ${path} is a symbolic link; custos reads and writes key files only as regular files: put the file itself there, or name its real path`,
      );
    }
    throw new CustosError('ERR_INVALID_ARGUMENT', `cannot read ${path}: ${code ?? 'error'}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${what} ${path} is not a file`);
    }
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new CustosError('ERR_INSECURE_FILE', readableByOthers(what, path, info.mode));
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function readableByOthers(what: string, path: string, mode: number): string {
  return `${what} ${path} may be read by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`;
}
