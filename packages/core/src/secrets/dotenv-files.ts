import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { isEncryptedValue } from './env-crypt.js';
import { plaintextMarkedNames } from './plaintext-values.js';

/**
 * The dotenv files for a mode, lowest precedence first (a later file overrides an earlier one):
 *
 * 1. `.env` — shared defaults, may be committed if it holds no secrets;
 * 2. `.env.local` — local overrides, git-ignored (skipped in `test` mode, so tests do not
 *    depend on one developer's machine);
 * 3. `.env.<mode>` — per environment (`.env.production`), committable when encrypted;
 * 4. `.env.<mode>.local` — local overrides for that environment, git-ignored.
 *
 * The process environment sits above all of them when `processEnv()` comes first in the chain,
 * as in the default `createSecrets()`.
 *
 * @example
 * ```ts
 * dotenvPrecedence('production'); // ['.env', '.env.local', '.env.production', '.env.production.local']
 * ```
 */
export function dotenvPrecedence(mode: string): string[] {
  const files = ['.env'];
  if (mode !== 'test') files.push('.env.local');
  files.push(`.env.${mode}`, `.env.${mode}.local`);
  return files;
}

/** One parsed dotenv file. */
export interface DotenvLayer {
  readonly path: string;
  readonly values: Readonly<Record<string, string>>;
  /** Permission bits (`stat().mode & 0o777`). */
  readonly mode: number;
  /** Whether any value is `enc:` encrypted. */
  readonly holdsEncrypted: boolean;
  /** Names marked `# custos: plaintext` (deliberately readable in an encrypted file). */
  readonly plaintextNames: ReadonlySet<string>;
}

/**
 * Reads and parses the files that exist among `paths` (relative ones against `directory`),
 * with dotenv's parser; missing files are skipped. Returns them in the given order.
 * @internal
 */
export async function readDotenvLayers(
  paths: readonly string[],
  directory: string,
): Promise<DotenvLayer[]> {
  const layers = await Promise.all(
    paths.map(async (file) => {
      const path = resolve(directory, file);
      const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
        throw err;
      });
      if (info === undefined || !info.isFile()) return undefined;
      const text = await readFile(path, 'utf8');
      const values = parse(text);
      return {
        path,
        values,
        mode: info.mode & 0o777,
        holdsEncrypted: Object.values(values).some(isEncryptedValue),
        plaintextNames: plaintextMarkedNames(text),
      };
    }),
  );
  return layers.filter((layer) => layer !== undefined);
}

/** Where each name's winning value comes from, merging layers (later wins). @internal */
export function mergeLayers(
  layers: readonly DotenvLayer[],
): Map<string, { value: string; path: string }> {
  const merged = new Map<string, { value: string; path: string }>();
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer.values)) {
      merged.set(name, { value, path: layer.path });
    }
  }
  return merged;
}
