import { writeFileAtomic } from '../lib/atomic-file.js';
import type { KeyFileUnlockOptions } from '../stream/protected-file.js';
import { readKeyFile } from '../stream/protected-read.js';
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
  /**
   * Opens a protected keyring file (`custos keyring protect`); without it, the keys the
   * environment names (`CUSTOS_KEY_PASSPHRASE_FILE`, `CUSTOS_KEY_IDENTITY`, `CUSTOS_KEY_KEY_FILE`).
   */
  readonly unlock?: KeyFileUnlockOptions;
}

/** Keyrings read from protected files, and how to seal new text for the same keys. */
const protection = new WeakMap<Keyring, (text: string) => Promise<string>>();

/**
 * Reads and validates a keyring file. Refuses a file that group or others may read, since it
 * holds key material. A protected keyring file (`custos keyring protect`) is opened with
 * `options.unlock`, or the keys the environment names; a keyring read from one is written back
 * protected for the same keys by {@link writeKeyringFile}.
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
  const opened = await readKeyFile(path, 'keyring file', options);
  const keyring = loadKeyring(opened.text, options);
  if (opened.protected) protection.set(keyring, opened.reseal);
  return keyring;
}

/**
 * Writes a keyring file atomically with mode 0600; a keyring read from a protected file is
 * written protected for the same keys (new content, the same passphrase, identities or key).
 *
 * @example
 * ```ts
 * keyring.rotate('fields');
 * await writeKeyringFile('keyring.json', keyring);
 * ```
 */
export async function writeKeyringFile(path: string, keyring: Keyring): Promise<void> {
  const text = serializeKeyring(keyring);
  const reseal = protection.get(keyring);
  await writeFileAtomic(path, reseal === undefined ? text : await reseal(text), 0o600);
}
