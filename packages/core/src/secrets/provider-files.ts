import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CustosError } from '../errors/index.js';
import { emitWarning, type SecretProvider, type WarningListener } from './provider.js';
import { watchDirectories } from './watch-directories.js';

/** Options of {@link secretFiles}. */
export interface SecretFilesOptions {
  /**
   * Directories holding one file per secret, named after the variable (`DB_PASSWORD`) or its
   * lower-case form (`db_password`, Docker's habit). Default `['/run/secrets']` (Docker
   * secrets); add your Kubernetes secret volume's mount path. Missing directories are skipped.
   */
  readonly directories?: readonly string[];
  /** Honour `NAME_FILE=/path` in the environment (default true). */
  readonly indirection?: boolean;
  /** Environment holding the `NAME_FILE` pointers; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the warning about files other users may read; default a process warning. */
  readonly onWarning?: WarningListener;
  /** Larger files are refused (default 1 MiB): a secret is small. */
  readonly maxBytes?: number;
}

const SAFE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Reads secrets from files: `NAME_FILE` indirection (`DB_PASSWORD_FILE=/run/secrets/db`) and
 * secret directories (Docker `/run/secrets`, Kubernetes mounted secrets). One trailing newline
 * (`\n` or `\r\n`) is removed, as `echo value > file` adds one. A file other users may read is
 * reported once through `onWarning`. `NAME_FILE` wins over the directories. Production accepts
 * this provider: files can be mounted for one process only.
 *
 * `list` returns the files of the directories; `NAME_FILE` is consulted when `NAME` is asked for.
 * `watch` reports changes in the directories (Kubernetes updates a mounted secret by swapping a
 * symlink), so `onChange` listeners hear about rotated values without waiting for the TTL.
 *
 * @example
 * ```ts
 * createSecrets({ providers: [secretFiles({ directories: ['/run/secrets', '/etc/app-secrets'] })] });
 * ```
 */
export function secretFiles(options: SecretFilesOptions = {}): SecretProvider {
  const directories = options.directories ?? ['/run/secrets'];
  const indirection = options.indirection ?? true;
  const env = () => options.env ?? process.env;
  const warn = options.onWarning ?? emitWarning;
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const warned = new Set<string>();

  const read = async (path: string): Promise<string | undefined> => {
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (info === undefined || !info.isFile()) return undefined;
    if (info.size > maxBytes) {
      throw new CustosError(
        'ERR_SECRET_PROVIDER',
        `secret file ${path} is ${info.size} bytes, over the ${maxBytes}-byte limit`,
      );
    }
    if (process.platform !== 'win32' && (info.mode & 0o004) !== 0 && !warned.has(path)) {
      warned.add(path);
      const mode = (info.mode & 0o777).toString(8);
      warn(`secret file ${path} is readable by other users (mode ${mode}); chmod 600 it`);
    }
    return trimOneNewline(await readFile(path, 'utf8'));
  };

  const pointer = (name: string): string | undefined => {
    if (!indirection) return undefined;
    const values = env();
    const key = `${name}_FILE`;
    const path = Object.hasOwn(values, key) ? values[key]?.trim() : undefined;
    return path === undefined || path === '' ? undefined : path;
  };

  const list = async (): Promise<string[]> => {
    // `NAME_FILE` pointers are resolved on demand only: environments are full of unrelated
    // `*_FILE` variables (SSL_CERT_FILE, …) that name no secret.
    const names = new Set<string>();
    for (const directory of directories) {
      const entries = await readdir(directory).catch(() => [] as string[]);
      for (const entry of entries) if (SAFE_FILE_NAME.test(entry)) names.add(entry);
    }
    return [...names];
  };

  return {
    name: 'files',
    async get(name) {
      const path = pointer(name);
      if (path !== undefined) {
        const value = await read(path);
        if (value === undefined) {
          throw new CustosError(
            'ERR_SECRET_PROVIDER',
            `${name}_FILE points to ${path}, which is not a readable file`,
          );
        }
        return value;
      }
      if (!SAFE_FILE_NAME.test(name)) return undefined;
      for (const directory of directories) {
        for (const fileName of new Set([name, name.toLowerCase()])) {
          const value = await read(join(directory, fileName));
          if (value !== undefined) return value;
        }
      }
      return undefined;
    },
    list,
    watch(listener) {
      return watchDirectories(
        directories,
        () => true,
        async () => listener(await list().catch(() => [])),
      );
    },
  };
}

/** Removes exactly one trailing line break (`\n` or `\r\n`). */
export function trimOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}
