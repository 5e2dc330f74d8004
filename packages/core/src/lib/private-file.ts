import { constants } from 'node:fs';
import { access, type FileHandle, lstat, open } from 'node:fs/promises';
import { CustosError } from '../errors/index.js';

/** What to do when a key file may be read by other users. */
export interface PrivateFileOptions {
  /** `refuse` (default) throws `ERR_INSECURE_FILE`; `warn` calls `onWarning` and goes on. */
  readonly permissions?: 'refuse' | 'warn';
  readonly onWarning?: (message: string) => void;
}

/** `O_NONBLOCK` keeps a FIFO planted under the name from blocking the open. */
const FOLLOWING_OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a file that an operator named as holding key material (a keyring, a JWT keyset, a local
 * KMS file). It must exist (`ERR_INVALID_ARGUMENT` otherwise, so a mistyped path never starts an
 * empty keyring), be a regular file, be readable by its owner only (mode 0600 or stricter;
 * `ERR_INSECURE_FILE` otherwise, or a warning when `permissions: 'warn'`), and belong to the
 * user running custos or to root (`ERR_INSECURE_FILE`: another user could replace the keys).
 * `what` names it in messages, such as "keyring file".
 *
 * A file its group may also read (0440, 0640) is accepted where this process cannot write it — a
 * read-only secret mount, such as Kubernetes mounts with `defaultMode: 0440` and `fsGroup` — since
 * nobody in the group can then replace the keys through this process's rights either; anything
 * others may read, or the group may write, is refused.
 *
 * A symbolic link is followed, since an explicitly named path is often one (Kubernetes and Docker
 * mount secrets as links); the checks apply to the file it leads to, and they and the read use one
 * open file, so the path cannot be swapped in between. Files found by convention in a project
 * directory use {@link readPrivateFile}, which refuses links. POSIX modes only: on Windows the
 * mode and owner checks are skipped.
 *
 * @example
 * ```ts
 * const json = await readKeyMaterialFile('keyring.json', 'keyring file');
 * ```
 */
export async function readKeyMaterialFile(
  path: string,
  what: string,
  options: PrivateFileOptions = {},
): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, FOLLOWING_OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      code === 'ENOENT'
        ? `${what} ${path} does not exist`
        : `cannot read ${path}: ${code ?? 'error'}`,
    );
  }
  return readOpened(
    handle,
    path,
    what,
    async (mode) =>
      (await privateEnough(path, mode)) ? undefined : readableByOthers(what, path, mode, true),
    (message) => {
      if ((options.permissions ?? 'refuse') === 'refuse') {
        throw new CustosError('ERR_INSECURE_FILE', message);
      }
      options.onWarning?.(message);
    },
  );
}

/**
 * `O_NOFOLLOW` refuses a symbolic link as the last part of the path (where the platform has it);
 * `O_NONBLOCK` keeps a FIFO planted under the name from blocking the open.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a key file found by convention in a project directory (`.env.keys`), with the checks of
 * {@link readKeyMaterialFile}, and also refuses a symbolic link (`ERR_INSECURE_FILE`): a link committed or planted under a key file's name
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
  return readOpened(
    handle,
    path,
    what,
    async (mode) => ((mode & 0o077) === 0 ? undefined : readableByOthers(what, path, mode)),
    (message) => {
      throw new CustosError('ERR_INSECURE_FILE', message);
    },
  );
}

/**
 * Reads an opened key file, then closes it: a regular file (`ERR_INVALID_ARGUMENT` otherwise),
 * owned by this user or root, and with a mode `insecure` finds no fault in (its message goes to
 * `onInsecure`). The checks apply to the open file, so the path cannot be swapped in between.
 */
async function readOpened(
  handle: FileHandle,
  path: string,
  what: string,
  insecure: (mode: number) => Promise<string | undefined>,
  onInsecure: (message: string) => void,
): Promise<string> {
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${what} ${path} is not a file`);
    }
    if (process.platform !== 'win32') {
      checkOwner(what, path, info.uid);
      const message = await insecure(info.mode);
      if (message !== undefined) onInsecure(message);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Owner-only files always pass; a file its group may read (and not write) passes only when this
 * process cannot write it (a read-only mount, or a file whose owner has no write bit).
 */
async function privateEnough(path: string, mode: number): Promise<boolean> {
  if ((mode & 0o077) === 0) return true;
  if ((mode & 0o037) !== 0) return false;
  return access(path, constants.W_OK).then(
    () => false,
    () => true,
  );
}

function readableByOthers(what: string, path: string, mode: number, groupRule = false): string {
  const base = `${what} ${path} may be read by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`;
  return groupRule
    ? `${base} (a file its group may read is accepted only where this process cannot write it, as on a read-only secret mount)`
    : base;
}

/** Key material must belong to the user running custos or to root; another user could swap it. */
function checkOwner(what: string, path: string, uid: number): void {
  const self = process.getuid?.();
  if (self === undefined || uid === self || uid === 0) return;
  throw new CustosError(
    'ERR_INSECURE_FILE',
    `${what} ${path} belongs to another user (uid ${uid}); key files must belong to the user running custos (uid ${self}) or to root`,
  );
}
