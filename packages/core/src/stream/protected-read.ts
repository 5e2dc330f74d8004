import { type PrivateFileOptions, readKeyMaterialFile } from '../lib/private-file.js';
import { isProtectedKeyFile } from './protected-armor.js';
import type { KeyFileUnlockOptions, OpenedKeyFile } from './protected-file.js';

/**
 * Opens key file text when it is protected, or returns plain text as it is. The backup code
 * (and Argon2id's native module) loads only for a protected file: plain loads stay as light as
 * they were.
 */
export async function openKeyFile(
  text: string,
  what: string,
  unlock: KeyFileUnlockOptions | undefined,
): Promise<OpenedKeyFile> {
  if (!isProtectedKeyFile(text)) return { text, protected: false, reseal: async (next) => next };
  const { openKeyFileText } = await import('./protected-file.js');
  return openKeyFileText(text, what, unlock);
}

/**
 * Reads a key file with the checks of `readKeyMaterialFile` (mode 0600, owner), and opens it when
 * it is protected.
 */
export async function readKeyFile(
  path: string,
  what: string,
  options: PrivateFileOptions & { readonly unlock?: KeyFileUnlockOptions | undefined } = {},
): Promise<OpenedKeyFile> {
  return openKeyFile(
    await readKeyMaterialFile(path, what, options),
    `${what} ${path}`,
    options.unlock,
  );
}
