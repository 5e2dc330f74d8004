import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import {
  type DotenvLayer,
  dotenvPrecedence,
  mergeLayers,
  readDotenvLayers,
} from './dotenv-files.js';
import { decryptEnvValue, isEncryptedValue } from './env-crypt.js';
import { type EnvKeyOptions, type EnvKeySet, findEnvKeys, modeOfEnvFile } from './env-key.js';
import {
  isUnmarkedPlaintextSecret,
  plaintextValueMessage,
  plaintextValueRefused,
} from './plaintext-values.js';
import {
  defaultEnvironment,
  emitWarning,
  type SecretProvider,
  type WarningListener,
} from './provider.js';
import { watchDirectories } from './watch-directories.js';

/** Options of {@link dotenvFiles}. */
export interface DotenvFilesOptions extends EnvKeyOptions {
  /** Directory holding the files; default the current working directory. */
  readonly directory?: string;
  /** Selects `.env.<mode>` and `.env.<mode>.local`; default `NODE_ENV`, else `development`. */
  readonly mode?: string;
  /**
   * Explicit files instead of the precedence set, lowest precedence first (a later file
   * overrides an earlier one, as with Node's `--env-file`). Missing files are skipped.
   */
  readonly files?: readonly string[];
  /**
   * Refuse a plaintext secret in a file of `enc:` values (`ERR_ENV_VALUE_PLAINTEXT`) instead of
   * warning about it. Default: `mode` is `production`.
   */
  readonly production?: boolean;
  /** Names allowed in plaintext in a file of `enc:` values, besides those marked in the file. */
  readonly plaintextNames?: readonly string[];
  /** Receives the warnings (a plaintext secret outside production); default `process.emitWarning`. */
  readonly onWarning?: WarningListener;
}

interface Snapshot {
  readonly signature: string;
  readonly values: Map<string, { value: string; path: string }>;
  readonly layers: Map<string, DotenvLayer>;
  /** The first loaded file holding `enc:` values, if any. */
  readonly encryptedFile: string | undefined;
  /** For each name some loaded file holds `enc:` encrypted, the first such file. */
  readonly encryptedIn: Map<string, string>;
  readonly keys: Map<string, Promise<EnvKeySet>>;
  /** `file\0name` of the plaintext values already warned about. */
  readonly warned: Set<string>;
}

/**
 * Reads dotenv files with dotenv's parser, in the documented precedence (see
 * {@link dotenvPrecedence}: `.env` < `.env.local` < `.env.<mode>` < `.env.<mode>.local`), and
 * decrypts `enc:` values transparently. The keys of a file come from `CUSTOS_ENV_KEY_<MODE>`
 * (its mode, from its name) and `CUSTOS_ENV_KEY`, in the environment or the git-ignored key
 * file (`.env.keys`); see `docs/secrets.md`. Files are re-read when they change on disk.
 *
 * When any loaded file holds `enc:` values, a plaintext value under a secret-looking name (or a
 * URL carrying a password) in any loaded file — `.local` overrides included — is what an
 * encrypted value replaced by a known one looks like: refused in production
 * (`ERR_ENV_VALUE_PLAINTEXT`), a warning elsewhere — both naming the variable and the files,
 * never the value. Values meant to be readable are marked `# custos: plaintext` (on
 * their line or the line above) or listed in `plaintextNames`.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({ providers: [dotenvFiles({ mode: 'production' })] });
 * await secrets.getRequiredSecret('JWT_SECRET'); // decrypted from .env.production
 * ```
 */
export function dotenvFiles(options: DotenvFilesOptions = {}): SecretProvider {
  const directory = resolve(options.directory ?? process.cwd());
  const mode = options.mode ?? defaultEnvironment(options.env);
  const production = options.production ?? mode === 'production';
  const allowedPlain = new Set(options.plaintextNames ?? []);
  const warn = options.onWarning ?? emitWarning;
  const files = (options.files ?? dotenvPrecedence(mode)).map((file) => resolve(directory, file));
  let snapshot: Snapshot | undefined;
  let loading: Promise<Snapshot> | undefined;

  const current = async (): Promise<Snapshot> => {
    const signature = await signatureOf(files);
    if (snapshot?.signature === signature) return snapshot;
    loading ??= readDotenvLayers(files, directory)
      .then((layers) => {
        snapshot = {
          signature,
          values: mergeLayers(layers),
          layers: new Map(layers.map((layer) => [layer.path, layer])),
          encryptedFile: layers.find((layer) => layer.holdsEncrypted)?.path,
          encryptedIn: encryptedNames(layers),
          keys: new Map(),
          warned: new Set(),
        };
        return snapshot;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  const keysFor = (state: Snapshot, path: string): Promise<EnvKeySet> => {
    const fileMode = modeOfEnvFile(path);
    const cacheKey = `${fileMode ?? ''}\0${dirname(path)}`;
    let keys = state.keys.get(cacheKey);
    if (keys === undefined) {
      keys = findEnvKeys(fileMode, dirname(path), options);
      state.keys.set(cacheKey, keys);
    }
    return keys;
  };

  /**
   * Refuses or warns about a plaintext secret where encrypted values are expected: in any loaded
   * file, as soon as one of them holds `enc:` values. Judged by content, never by file name or
   * git status: a `.local` override can be committed (or shipped in an image) like any other
   * file, and the encrypted line removed from `.env.production` with a known value put in
   * another loaded file is the same attack as an in-place swap.
   */
  const checkPlaintext = (state: Snapshot, name: string, value: string, path: string) => {
    const layer = state.layers.get(path);
    if (layer === undefined || state.encryptedFile === undefined || allowedPlain.has(name)) return;
    if (!isUnmarkedPlaintextSecret(name, value, layer.plaintextNames)) return;
    const encryptedFile = layer.holdsEncrypted
      ? path
      : (state.encryptedIn.get(name) ?? state.encryptedFile);
    const overrides = state.encryptedIn.has(name) && encryptedFile !== path;
    if (production) throw plaintextValueRefused(name, path, encryptedFile, overrides);
    const key = `${path}\0${name}`;
    if (state.warned.has(key)) return;
    state.warned.add(key);
    warn(`${plaintextValueMessage(name, path, encryptedFile, overrides)} (refused in production)`);
  };

  return {
    name: 'dotenv',
    async get(name) {
      const state = await current();
      const entry = state.values.get(name);
      if (entry === undefined) return undefined;
      if (!isEncryptedValue(entry.value)) {
        checkPlaintext(state, name, entry.value, entry.path);
        return entry.value;
      }
      return decryptEnvValue(await keysFor(state, entry.path), name, entry.value, entry.path);
    },
    async list() {
      return [...(await current()).values.keys()];
    },
    watch(listener) {
      const watched = new Set(files.map((file) => basename(file)));
      return watchDirectories(
        files.map((file) => dirname(file)),
        (fileName) => fileName === null || watched.has(fileName),
        async () => {
          const before = snapshot?.values;
          const after = (await current().catch(() => undefined))?.values;
          listener([...new Set([...(before?.keys() ?? []), ...(after?.keys() ?? [])])]);
        },
      );
    },
  };
}

/** Each name some layer holds `enc:` encrypted, with the first layer that does. */
function encryptedNames(layers: readonly DotenvLayer[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer.values)) {
      if (isEncryptedValue(value) && !names.has(name)) names.set(name, layer.path);
    }
  }
  return names;
}

/** Changes whenever any of the files is created, removed or rewritten. */
async function signatureOf(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file, { bigint: true }).catch(() => undefined);
      return info === undefined ? '-' : `${info.ino}:${info.size}:${info.mtimeNs}`;
    }),
  );
  return parts.join('|');
}
