import { constants } from 'node:fs';
import { type FileHandle, lstat, open, unlink } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';

// Not on Windows; there the mode checks below are skipped too.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
// A FIFO planted at the path would otherwise block the open; it is then refused as not a file.
const NO_BLOCK = constants.O_NONBLOCK ?? 0;

/** A key file created empty, for the key that init is about to produce. */
export interface NewDevKeyFile {
  /** Writes the key, flushes it to disk and closes the file. */
  write(unsealKey: string): Promise<void>;
  /** Closes and removes the file (init failed: nothing to keep). */
  discard(): Promise<void>;
}

/**
 * Creates the dev-mode unseal key file, owner-only (0600), before init touches storage. The
 * file must not exist: an existing one (or a symlink, even a dangling one) is refused with
 * `ERR_INVALID_CONFIG`, never overwritten or followed, so the key cannot land in a file that
 * others may read or somewhere a link points to.
 *
 * @example
 * ```ts
 * const file = await createDevKeyFile('/data/custos.db.dev-unseal-key');
 * try { await file.write(await initialise()); } catch (err) { await file.discard(); throw err; }
 * ```
 */
export async function createDevKeyFile(path: string): Promise<NewDevKeyFile> {
  let handle: FileHandle;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW,
      0o600,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw err;
    const link = (await lstat(path).catch(() => undefined))?.isSymbolicLink() === true;
    throw new ServerError(
      'ERR_INVALID_CONFIG',
      `dev mode: ${path} already exists${link ? ' (a symbolic link)' : ''} but the storage is not initialised; it is not overwritten. Remove it, or start dev mode on the storage it belongs to`,
    );
  }
  return {
    async write(unsealKey) {
      try {
        await handle.writeFile(unsealKey);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    async discard() {
      await handle.close().catch(() => {});
      await unlink(path).catch(() => {});
    },
  };
}

/**
 * Reads the dev-mode unseal key file of an initialised storage, refusing (`ERR_INSECURE_FILE`)
 * a symbolic link, a file others may read or write (mode beyond 0600) and a file owned by
 * another user; the checks are made on the opened file itself, so it cannot be swapped between
 * check and read. A missing file is `ERR_INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * const key = await readDevKeyFile('/data/custos.db.dev-unseal-key');
 * ```
 */
export async function readDevKeyFile(path: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | NO_FOLLOW | NO_BLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new CustosError(
        'ERR_INSECURE_FILE',
        `dev mode: ${path} is a symbolic link; the unseal key file must be a regular file`,
      );
    }
    if (code === 'ENOENT') {
      throw new ServerError(
        'ERR_INVALID_CONFIG',
        `dev mode: the storage is initialised but ${path} (its dev unseal key) does not exist`,
      );
    }
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new CustosError('ERR_INSECURE_FILE', `dev mode: ${path} is not a regular file`);
    }
    if (process.platform !== 'win32') {
      if ((info.mode & 0o077) !== 0) {
        throw new CustosError(
          'ERR_INSECURE_FILE',
          `dev mode: ${path} may be read by other users (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
        );
      }
      if (info.uid !== process.getuid?.()) {
        throw new CustosError(
          'ERR_INSECURE_FILE',
          `dev mode: ${path} belongs to another user (uid ${info.uid})`,
        );
      }
    }
    return (await handle.readFile('utf8')).trim();
  } finally {
    await handle.close();
  }
}
