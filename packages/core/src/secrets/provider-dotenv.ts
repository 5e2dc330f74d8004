import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { dotenvPrecedence, mergeLayers, readDotenvLayers } from './dotenv-files.js';
import { decryptEnvValue, isEncryptedValue } from './env-crypt.js';
import { type EnvKeyOptions, type EnvKeySet, findEnvKeys, modeOfEnvFile } from './env-key.js';
import { defaultEnvironment, type SecretProvider } from './provider.js';
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
}

interface Snapshot {
  readonly signature: string;
  readonly values: Map<string, { value: string; path: string }>;
  readonly keys: Map<string, Promise<EnvKeySet>>;
}

/**
 * Reads dotenv files with dotenv's parser, in the documented precedence (see
 * {@link dotenvPrecedence}: `.env` < `.env.local` < `.env.<mode>` < `.env.<mode>.local`), and
 * decrypts `enc:` values transparently. The keys of a file come from `CUSTOS_ENV_KEY_<MODE>`
 * (its mode, from its name) and `CUSTOS_ENV_KEY`, in the environment or the git-ignored key
 * file (`.env.keys`); see `docs/secrets.md`. Files are re-read when they change on disk.
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
  const files = (options.files ?? dotenvPrecedence(mode)).map((file) => resolve(directory, file));
  let snapshot: Snapshot | undefined;
  let loading: Promise<Snapshot> | undefined;

  const current = async (): Promise<Snapshot> => {
    const signature = await signatureOf(files);
    if (snapshot?.signature === signature) return snapshot;
    loading ??= readDotenvLayers(files, directory)
      .then((layers) => {
        snapshot = { signature, values: mergeLayers(layers), keys: new Map() };
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

  return {
    name: 'dotenv',
    async get(name) {
      const state = await current();
      const entry = state.values.get(name);
      if (entry === undefined) return undefined;
      if (!isEncryptedValue(entry.value)) return entry.value;
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
