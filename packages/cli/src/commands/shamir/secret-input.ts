import { open } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';

/** Reads all of standard input as bytes. */
export async function readStdin(): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of process.stdin) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

/**
 * Reads a file holding a secret: a regular file, owned by this user or root, readable by its
 * owner only (`ERR_INSECURE_FILE` otherwise), checked on the open file.
 */
export async function readSecretFile(path: string, what: string): Promise<Buffer> {
  const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      err.code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${path}: ${err.code}`,
    );
  });
  try {
    const info = await handle.stat();
    if (!info.isFile())
      throw new CustosError('ERR_INVALID_ARGUMENT', `${what} ${path} is not a file`);
    if (process.platform !== 'win32') {
      const self = process.getuid?.();
      if (self !== undefined && info.uid !== self && info.uid !== 0) {
        throw new CustosError(
          'ERR_INSECURE_FILE',
          `${what} ${path} belongs to another user (uid ${info.uid})`,
        );
      }
      if ((info.mode & 0o077) !== 0) {
        throw new CustosError(
          'ERR_INSECURE_FILE',
          `${what} ${path} may be read by other users (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
        );
      }
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
