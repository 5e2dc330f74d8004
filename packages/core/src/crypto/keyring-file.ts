import { writeFileAtomic } from '../lib/atomic-file.js';
import { readKeyMaterialFile } from '../lib/private-file.js';
import type { Keyring, KeyringOptions } from './keyring.js';
import { loadKeyring, serializeKeyring } from './keyring-json.js';

/** Options for {@link readKeyringFile}. */
export interface ReadKeyringFileOptions extends KeyringOptions {
  /**
   * What to do when the file is readable by group or others: `refuse` (default) or `warn`
   * (through `onWarning`). Ignored on Windows, which has no such mode bits.
   */
  readonly permissions?: 'refuse' | 'warn';
  readonly onWarning?: (message: string) => void;
}

/**
 * Reads and validates a keyring file. Refuses a file that group or others may read, since it
 * holds key material in the clear.
 *
 * @example
 * ```ts
 * const keyring = await readKeyringFile('keyring.json');
 * ```
 */
export async function readKeyringFile(
  path: string,
  options: ReadKeyringFileOptions = {},
): Promise<Keyring> {
  return loadKeyring(await readKeyMaterialFile(path, 'keyring file', options), options);
}

/**
 * Writes a keyring file atomically with mode 0600.
 *
 * @example
 * ```ts
 * keyring.rotate('fields');
 * await writeKeyringFile('keyring.json', keyring);
 * ```
 */
export async function writeKeyringFile(path: string, keyring: Keyring): Promise<void> {
  await writeFileAtomic(path, serializeKeyring(keyring), 0o600);
}
