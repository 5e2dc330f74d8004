import { stat } from 'node:fs/promises';
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
  const message = `${what} ${path} may be read by other users (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${path}`;
  if ((options.permissions ?? 'refuse') === 'refuse') {
    throw new CustosError('ERR_INSECURE_FILE', message);
  }
  options.onWarning?.(message);
}
