import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { parse } from 'dotenv';
import { constantTimeEqual } from '../crypto/hmac.js';
import { Keyring } from '../crypto/keyring.js';
import { loadKeyring } from '../crypto/keyring-json.js';
import { CustosError } from '../errors/index.js';
import { decodeBase64UrlStrict } from '../lib/bytes.js';
import { readPrivateFile } from '../lib/private-file.js';
import { Secret } from '../redaction/secret.js';

/**
 * Text form of one dotenv encryption key: prefix, 16 hex key id, 43 base64url key bytes.
 *
 * @example
 * ```ts
 * generateEnvKey().reveal().startsWith(ENV_KEY_PREFIX); // true
 * ```
 */
export const ENV_KEY_PREFIX = 'custos-env-key:v1:';
/**
 * Default name of the key file, beside the env file (`.env.*` is git-ignored).
 *
 * @example
 * ```ts
 * join(dirname('.env.production'), ENV_KEYS_FILE); // ".env.keys"
 * ```
 */
export const ENV_KEYS_FILE = '.env.keys';

const ENV_KEY = /^custos-env-key:v1:([0-9a-f]{16}):([A-Za-z0-9_-]{43})$/;

/**
 * Generates a dotenv encryption key (256 random bits and a random key id) in its text form,
 * `custos-env-key:v1:<id>:<key>`.
 *
 * @example
 * ```ts
 * const key = generateEnvKey();
 * await appendFile('.env.keys', `CUSTOS_ENV_KEY_PRODUCTION=${key.reveal()}\n`, { mode: 0o600 });
 * ```
 */
export function generateEnvKey(): Secret<string> {
  const id = randomBytes(8).toString('hex');
  return new Secret(`${ENV_KEY_PREFIX}${id}:${randomBytes(32).toString('base64url')}`);
}

/**
 * The mode an env file belongs to, from its name.
 *
 * @example
 * ```ts
 * modeOfEnvFile('.env.production.local'); // 'production'
 * modeOfEnvFile('.env.local');            // undefined
 * ```
 */
export function modeOfEnvFile(path: string): string | undefined {
  const match = /^\.env\.([^.]+)(?:\.local)?$/.exec(basename(path));
  const mode = match?.[1];
  return mode === undefined || ['local', 'example', 'keys', 'vault'].includes(mode)
    ? undefined
    : mode;
}

/** Keys of files without a mode (`.env`, `.env.local`). */
const SHARED_KEY_VARIABLE = 'CUSTOS_ENV_KEY';

/**
 * The variable that holds the keys of files of `mode`: `CUSTOS_ENV_KEY_<MODE>`, or
 * `CUSTOS_ENV_KEY` for files without a mode (`.env`, `.env.local`). A file with a mode never
 * falls back to the shared `CUSTOS_ENV_KEY`: the key every developer holds for `.env` must not
 * read (or write) `.env.production`.
 *
 * @example
 * ```ts
 * envKeyVariable('production'); // 'CUSTOS_ENV_KEY_PRODUCTION'
 * envKeyVariable(undefined);    // 'CUSTOS_ENV_KEY'
 * ```
 */
export function envKeyVariable(mode: string | undefined): string {
  return mode === undefined
    ? SHARED_KEY_VARIABLE
    : `${SHARED_KEY_VARIABLE}_${mode.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Where the dotenv encryption keys come from. */
export interface EnvKeyOptions {
  /** Key file; default `CUSTOS_ENV_KEYS_FILE`, else `.env.keys` in the env file's directory. */
  readonly keysFile?: string;
  /** Environment to read `CUSTOS_ENV_KEY…` from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** The keys found for one mode, ready to decrypt (any of them) and encrypt (the first). */
export interface EnvKeySet {
  readonly keyring: Keyring;
  /** Keyring name of the key that encrypts (the first found), if any key was found. */
  readonly primary: string | undefined;
  readonly keyIds: ReadonlySet<string>;
  /** Where keys were looked for, for messages: `CUSTOS_ENV_KEY_PRODUCTION (env)`, a file. */
  readonly searched: readonly string[];
  /** The key file consulted. */
  readonly keysFile: string;
  /**
   * The mode of the files these keys serve (`undefined`: no mode). It is bound into every value
   * they encrypt, so a value cannot move between files of different modes.
   */
  readonly mode: string | undefined;
}

/**
 * Collects the dotenv keys for files of `mode`: the variable {@link envKeyVariable} names, from
 * the environment first and then from the key file. A variable may hold several keys separated
 * by commas; all of them decrypt (so a rotation can overlap) and the very first found encrypts.
 * A file with a mode uses its own variable only, never the shared `CUSTOS_ENV_KEY`. A key file
 * other users may read is refused (`ERR_INSECURE_FILE`), as keyring files are, and so is a key
 * file that is a symbolic link (its target is never read).
 *
 * @example
 * ```ts
 * const keys = await findEnvKeys('production', '/srv/app');
 * keys.keyIds.size; // number of usable keys
 * ```
 */
export function findEnvKeys(
  mode: string | undefined,
  directory: string,
  options: EnvKeyOptions = {},
): Promise<EnvKeySet> {
  return collectEnvKeys([envKeyVariable(mode)], mode, directory, options);
}

/**
 * The keys the first `enc:` format used for `mode`: its own variable, then the shared
 * `CUSTOS_ENV_KEY` (that format fell back to it). Only `encryptEnvFile({ rotate: true })` uses
 * them, to move such values to the current format. @internal
 */
export function findLegacyEnvKeys(
  mode: string | undefined,
  directory: string,
  options: EnvKeyOptions = {},
): Promise<EnvKeySet> {
  const variables = [...new Set([envKeyVariable(mode), SHARED_KEY_VARIABLE])];
  return collectEnvKeys(variables, mode, directory, options);
}

async function collectEnvKeys(
  variables: readonly string[],
  mode: string | undefined,
  directory: string,
  options: EnvKeyOptions,
): Promise<EnvKeySet> {
  const env = options.env ?? process.env;
  const keysFile = options.keysFile ?? env.CUSTOS_ENV_KEYS_FILE ?? join(directory, ENV_KEYS_FILE);
  const fileValues = await readKeysFile(keysFile);
  const texts: { text: string; source: string }[] = [];
  const searched: string[] = [];
  for (const variable of variables) {
    searched.push(`${variable} (environment)`, `${variable} (${keysFile})`);
    const fromEnv = Object.hasOwn(env, variable) ? env[variable] : undefined;
    if (fromEnv) texts.push({ text: fromEnv, source: `${variable} in the environment` });
    const fromFile = fileValues?.[variable];
    if (fromFile) texts.push({ text: fromFile, source: `${variable} in ${keysFile}` });
  }
  return buildKeySet(texts, searched, keysFile, mode);
}

/** Parses a comma-separated list of keys in text form. @internal */
export function parseEnvKeyList(text: string, source: string): { id: string; material: string }[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const match = ENV_KEY.exec(part);
      if (match === null) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `${source} is not a list of custos env keys (${ENV_KEY_PREFIX}<16 hex>:<43 base64url>)`,
        );
      }
      decodeBase64UrlStrict(match[2] as string, source);
      return { id: match[1] as string, material: match[2] as string };
    });
}

/**
 * Builds a key set for files of `mode` from key lists in text form; the first key encrypts.
 * @internal
 */
export function buildKeySet(
  texts: readonly { text: string; source: string }[],
  searched: readonly string[],
  keysFile: string,
  mode: string | undefined,
): EnvKeySet {
  const seen = new Map<string, string>();
  for (const { text, source } of texts) {
    for (const key of parseEnvKeyList(text, source)) {
      const known = seen.get(key.id);
      // Key material: compared in constant time, like any secret.
      if (known !== undefined && !constantTimeEqual(known, key.material)) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `two different env keys share the id ${key.id} (${source}); keep one`,
        );
      }
      seen.set(key.id, key.material);
    }
  }
  const createdAt = new Date(0).toISOString();
  const keyring =
    seen.size === 0
      ? new Keyring()
      : loadKeyring({
          custos: 'keyring',
          formatVersion: 1,
          keys: [...seen].map(([id, material]) => ({
            name: `env-${id}`,
            id,
            algorithm: 'aes-256-gcm',
            primaryVersion: 1,
            minDecryptionVersion: 1,
            encryptionLimit: 2 ** 32,
            versions: [
              {
                version: 1,
                state: 'enabled',
                createdAt,
                encryptions: 0,
                key: Buffer.from(material, 'base64url').toString('base64'),
              },
            ],
          })),
        });
  const first = seen.keys().next();
  return {
    keyring,
    primary: first.done ? undefined : `env-${first.value}`,
    keyIds: new Set(seen.keys()),
    searched,
    keysFile,
    mode,
  };
}

async function readKeysFile(path: string): Promise<Record<string, string> | undefined> {
  // No key file: keys come from the environment. A symbolic link is refused, never followed.
  const text = await readPrivateFile(path, 'key file');
  return text === undefined ? undefined : parse(text);
}
