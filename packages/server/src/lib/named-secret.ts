import { readFile } from 'node:fs/promises';
import { ServerError } from '../errors.js';

/** Where the configuration file names a secret: an environment variable or a file. */
export type NamedSecret = { readonly env: string } | { readonly file: string };

/**
 * Reads a secret the configuration file names by `<field>_env` or `<field>_file` (a file's one
 * trailing newline is dropped). Unset, unreadable or empty is `ERR_INVALID_CONFIG` naming
 * `at` and the variable or file, never the value.
 *
 * @example
 * ```ts
 * const password = await readNamedSecret({ env: 'SMTP_PASSWORD' }, 'alerts.channels.mail', 'password', process.env);
 * ```
 */
export async function readNamedSecret(
  source: NamedSecret,
  at: string,
  field: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const invalid = (message: string) =>
    new ServerError('ERR_INVALID_CONFIG', `config: ${at}: ${message}`);
  if ('env' in source) {
    const value = env[source.env];
    if (value === undefined || value === '')
      throw invalid(`the environment variable ${source.env} (${field}_env) is not set`);
    return value;
  }
  const text = await readFile(source.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw invalid(`cannot read ${field}_file ${source.file}: ${err.code ?? 'unreadable'}`);
  });
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw invalid(`${field}_file ${source.file} is empty`);
  return value;
}
