import { writeFileAtomic } from '../lib/atomic-file.js';
import type { KeyFileUnlockOptions } from '../stream/protected-file.js';
import { readKeyFile } from '../stream/protected-read.js';
import type { JwtKeyset } from './keyset.js';
import { loadJwtKeyset, serializeJwtKeyset } from './keyset-json.js';

/** Keysets read from protected files, and how to seal new text for the same keys. */
const protection = new WeakMap<JwtKeyset, (text: string) => Promise<string>>();

/** Options of {@link readJwtKeysetFile}: how to open a protected keyset file. */
export interface ReadJwtKeysetFileOptions {
  /** Without it, the keys the environment names (`CUSTOS_KEY_PASSPHRASE_FILE`, …). */
  readonly unlock?: KeyFileUnlockOptions;
}

/** Options of {@link writeJwtKeysetFile}. */
export interface WriteJwtKeysetFileOptions {
  /** Write protected for the same keys as the file this keyset was read from (a rotation). */
  readonly protectedLike?: JwtKeyset;
}

/**
 * Reads and validates a keyset file. Refuses a file that group or others may read (it holds
 * private keys), like keyring files. A protected keyset file (`custos jwt protect`) is opened
 * with `options.unlock` or the keys the environment names.
 *
 * @example
 * ```ts
 * const keyset = await readJwtKeysetFile('/run/secrets/jwt-keys.json');
 * ```
 */
export async function readJwtKeysetFile(
  path: string,
  options: ReadJwtKeysetFileOptions = {},
): Promise<JwtKeyset> {
  const opened = await readKeyFile(path, 'keyset file', { unlock: options.unlock });
  const keyset = await loadJwtKeyset(opened.text);
  if (opened.protected) protection.set(keyset, opened.reseal);
  return keyset;
}

/**
 * Writes a keyset file atomically with mode 0600; protected for the same keys when it was read
 * from a protected file (or `protectedLike` was).
 *
 * @example
 * ```ts
 * await writeJwtKeysetFile('jwt-keys.json', await keyset.rotate({ graceSeconds: 172800 }));
 * ```
 */
export async function writeJwtKeysetFile(
  path: string,
  keyset: JwtKeyset,
  options: WriteJwtKeysetFileOptions = {},
): Promise<void> {
  const text = serializeJwtKeyset(keyset);
  const reseal = protection.get(keyset) ?? protection.get(options.protectedLike ?? keyset);
  if (reseal !== undefined) protection.set(keyset, reseal);
  await writeFileAtomic(path, reseal === undefined ? text : await reseal(text), 0o600);
}
