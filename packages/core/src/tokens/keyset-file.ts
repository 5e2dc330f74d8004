import { readFile, stat } from 'node:fs/promises';
import { CustosError } from '../errors/index.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import type { JwtKeyset } from './keyset.js';
import { loadJwtKeyset, serializeJwtKeyset } from './keyset-json.js';

/**
 * Reads and validates a keyset file. Refuses a file that group or others may read (it holds
 * private keys), like keyring files.
 *
 * @example
 * ```ts
 * const keyset = await readJwtKeysetFile('/run/secrets/jwt-keys.json');
 * ```
 */
export async function readJwtKeysetFile(path: string): Promise<JwtKeyset> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      err.code === 'ENOENT'
        ? `keyset file ${path} does not exist`
        : `cannot read ${path}: ${err.code}`,
    );
  });
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new CustosError(
      'ERR_INSECURE_FILE',
      `keyset file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
    );
  }
  return loadJwtKeyset(await readFile(path, 'utf8'));
}

/**
 * Writes a keyset file atomically with mode 0600.
 *
 * @example
 * ```ts
 * await writeJwtKeysetFile('jwt-keys.json', await keyset.rotate({ graceSeconds: 172800 }));
 * ```
 */
export async function writeJwtKeysetFile(path: string, keyset: JwtKeyset): Promise<void> {
  await writeFileAtomic(path, serializeJwtKeyset(keyset), 0o600);
}
