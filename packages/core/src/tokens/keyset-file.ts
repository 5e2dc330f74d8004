import { writeFileAtomic } from '../lib/atomic-file.js';
import { readKeyMaterialFile } from '../lib/private-file.js';
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
  return loadJwtKeyset(await readKeyMaterialFile(path, 'keyset file'));
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
