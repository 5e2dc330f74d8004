import { lstat, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'dotenv';
import { CustosError } from '../errors/index.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { readPrivateFile } from '../lib/private-file.js';
import { rewriteDotenvValues, setDotenvValue } from './dotenv-text.js';
import {
  assertCurrentEnvValue,
  decryptEnvValue,
  decryptLegacyEnvValue,
  encryptEnvValue,
  isEncryptedValue,
  isLegacyEnvValue,
} from './env-crypt.js';
import {
  buildKeySet,
  type EnvKeyOptions,
  type EnvKeySet,
  envKeyVariable,
  findEnvKeys,
  findLegacyEnvKeys,
  generateEnvKey,
  modeOfEnvFile,
  parseEnvKeyList,
} from './env-key.js';
import { plaintextMarkedNames } from './plaintext-values.js';

/** Options of {@link encryptEnvFile}. */
export interface EncryptEnvFileOptions extends EnvKeyOptions {
  /**
   * Start a new key: it is generated, put first in the key variable (older keys stay after it,
   * so values not yet re-encrypted still decrypt), and every value is re-encrypted under it.
   * This is also the way to move values of the first `enc:` format (`enc:custos:…`) to the
   * current one; those are read with the keys that format used (the file's own variable, then
   * the shared `CUSTOS_ENV_KEY`).
   */
  readonly rotate?: boolean;
}

/** What {@link encryptEnvFile} did. */
export interface EncryptEnvFileResult {
  /** Values encrypted (or re-encrypted by a rotation). */
  readonly encrypted: number;
  /** Values already encrypted and left as they were. */
  readonly unchanged: number;
  /** The variable that holds the key (`CUSTOS_ENV_KEY_PRODUCTION`). */
  readonly keyVariable: string;
  /** The key file, and whether a key was written to it (new, or a rotation). */
  readonly keysFile: string;
  readonly wroteKey: boolean;
}

/**
 * Encrypts every plaintext value of a dotenv file in place (`custos env encrypt`) — except those
 * marked `# custos: plaintext` (on their line or the line above), which stay readable: each value
 * becomes `enc:v2:` + a custos envelope, bound to its variable name and the file's mode, under
 * the first key of the file's own variable (`CUSTOS_ENV_KEY_<MODE>` for `.env.<mode>`,
 * `CUSTOS_ENV_KEY` for `.env`). When that variable holds no key yet, one is generated and written
 * to the key file (mode 0600) — even if the shared `CUSTOS_ENV_KEY` exists. Comments, order and
 * layout are kept; the file keeps its mode and is replaced atomically (a symbolic link is
 * refused: the link would be replaced and its target left in plaintext). A key file that is a
 * symbolic link is refused (`ERR_INSECURE_FILE`). A value in the first
 * `enc:` format is refused (`ERR_ENV_VALUE_OUTDATED`) unless `rotate` is set.
 *
 * @example
 * ```ts
 * const result = await encryptEnvFile('.env.production');
 * // result.keyVariable === 'CUSTOS_ENV_KEY_PRODUCTION'; the key is in .env.keys
 * ```
 */
export async function encryptEnvFile(
  path: string,
  options: EncryptEnvFileOptions = {},
): Promise<EncryptEnvFileResult> {
  const file = resolve(path);
  const { text, mode: fileMode } = await readEnvFile(file, 'encrypt');
  const mode = modeOfEnvFile(file);
  const keyVariable = envKeyVariable(mode);
  const oldKeys = await findEnvKeys(mode, dirname(file), options);
  const rotate = options.rotate === true;
  // The shared key is read only to migrate values of the first format, when there are some.
  const migrating = rotate && Object.values(parse(text)).some(isLegacyEnvValue);
  const legacyKeys = migrating ? await findLegacyEnvKeys(mode, dirname(file), options) : oldKeys;
  const wroteKey = rotate || oldKeys.primary === undefined;
  const newKey = wroteKey ? await prepareKey(oldKeys, keyVariable, options) : undefined;
  const keys = newKey?.keys ?? oldKeys;
  let encrypted = 0;
  let unchanged = 0;
  const markedPlain = plaintextMarkedNames(text);
  const output = rewriteDotenvValues(text, (name, value) => {
    if (isEncryptedValue(value)) {
      if (!rotate) {
        // Left as is, a value of the first format would not load: say so now.
        assertCurrentEnvValue(name, value, file);
        unchanged++;
        return undefined;
      }
      encrypted++;
      const plaintext = isLegacyEnvValue(value)
        ? decryptLegacyEnvValue(legacyKeys, name, value, file)
        : decryptEnvValue(oldKeys, name, value, file);
      return encryptEnvValue(keys, name, plaintext);
    }
    // Marked `# custos: plaintext`: meant to stay readable in the committed file.
    if (markedPlain.has(name)) return undefined;
    encrypted++;
    return encryptEnvValue(keys, name, value);
  });
  // Only now that every value encrypted: the key first, then the file that needs it.
  await newKey?.commit();
  if (encrypted > 0) await writeFileAtomic(file, output, fileMode);
  return { encrypted, unchanged, keyVariable, keysFile: keys.keysFile, wroteKey };
}

/**
 * Decrypts every `enc:` value of a dotenv file (`custos env decrypt`) and returns the plaintext
 * text; with `write: true` the file is rewritten in place — atomically, with mode 0600 whatever
 * its mode was, since it now holds secrets in clear (a symbolic link is refused). Keep the
 * plaintext file out of git.
 *
 * @example
 * ```ts
 * const { decrypted } = await decryptEnvFile('.env.production', { write: true });
 * ```
 */
export async function decryptEnvFile(
  path: string,
  options: EnvKeyOptions & { readonly write?: boolean } = {},
): Promise<{ readonly text: string; readonly decrypted: number }> {
  const file = resolve(path);
  const { text } = await readEnvFile(file, options.write === true ? 'decrypt' : undefined);
  const keys = await findEnvKeys(modeOfEnvFile(file), dirname(file), options);
  let decrypted = 0;
  const output = rewriteDotenvValues(text, (name, value) => {
    if (!isEncryptedValue(value)) return undefined;
    decrypted++;
    return decryptEnvValue(keys, name, value, file);
  });
  // Plaintext secrets now: owner-only, whatever the mode of the file that held ciphertext.
  if (options.write === true && decrypted > 0) await writeFileAtomic(file, output, 0o600);
  return { text: output, decrypted };
}

/**
 * Reads an env file; `rewrite` names the in-place rewrite to come, which refuses a symbolic
 * link: the rename would replace the link with a regular file and leave its target as it was
 * (still plaintext after an encrypt).
 */
async function readEnvFile(
  file: string,
  rewrite?: 'encrypt' | 'decrypt',
): Promise<{ text: string; mode: number }> {
  const link = await lstat(file).catch(() => undefined);
  if (rewrite !== undefined && link?.isSymbolicLink()) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `env file ${file} is a symbolic link: ${rewrite} the file it points to, which is what would change`,
    );
  }
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `env file ${file} does not exist`);
  }
  return { text: await readFile(file, 'utf8'), mode: info.mode & 0o777 };
}

const KEYS_FILE_HEADER = `# custos env keys: they decrypt the enc: values of .env files. Keep this file out of git
# (.env.* is git-ignored) and give each key to its environment as the variable of the same name.
`;

/**
 * Generates a key to go first in `variable` of the key file (older keys stay after it) and
 * returns the key set that encrypts with it, and the write to make once encryption succeeded.
 */
async function prepareKey(
  keys: EnvKeySet,
  variable: string,
  options: EnvKeyOptions,
): Promise<{ keys: EnvKeySet; commit: () => Promise<void> }> {
  // Checked as when the keys were read: a symbolic link's target is never copied in.
  const existing = await readPrivateFile(keys.keysFile, 'key file');
  const env = options.env ?? process.env;
  const current = parse(existing ?? '')[variable] ?? env[variable] ?? '';
  parseEnvKeyList(current, variable); // refuse to extend a damaged list
  const fresh = generateEnvKey().reveal();
  const list = [fresh, current].filter((part) => part.trim() !== '').join(',');
  const source = `${variable} in ${keys.keysFile}`;
  return {
    keys: buildKeySet([{ text: fresh, source }], keys.searched, keys.keysFile, keys.mode),
    commit: () =>
      writeFileAtomic(
        keys.keysFile,
        setDotenvValue(existing ?? KEYS_FILE_HEADER, variable, list),
        0o600,
      ),
  };
}
