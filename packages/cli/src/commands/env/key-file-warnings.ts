import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProtectedKeyFile } from '@custos/core/stream';

/** What a plain key file is, by its content: the command that protects it. */
function kindOf(text: string): { what: string; protect: string } | undefined {
  let json: { custos?: unknown; format?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object') return undefined;
  if (json.custos === 'keyring') return { what: 'keyring file', protect: 'custos keyring protect' };
  if (json.custos === 'jwt-keyset')
    return { what: 'JWT keyset file', protect: 'custos jwt protect' };
  if (json.format === 'custos.kms.v1')
    return { what: 'local KMS file', protect: 'custos kms protect' };
  return undefined;
}

/**
 * Key files (keyrings, JWT keysets, local KMS files) stored in the clear: the `--key-file`s
 * named, and the JSON files of `directory` that are one. Protected files are fine.
 */
export async function unprotectedKeyFiles(
  directory: string,
  named: readonly string[],
): Promise<string[]> {
  const candidates = new Set(named);
  for (const entry of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
    if (entry.isFile() && entry.name.endsWith('.json')) candidates.add(join(directory, entry.name));
  }
  const warnings: string[] = [];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) {
      if (named.includes(file)) warnings.push(`${file}: cannot be read`);
      continue;
    }
    if (isProtectedKeyFile(text)) continue;
    const kind = kindOf(text);
    if (kind === undefined) {
      if (named.includes(file)) warnings.push(`${file}: not a custos key file`);
      continue;
    }
    const how = `${kind.protect} -f ${file} --passphrase-file …`;
    warnings.push(
      `${file}: ${kind.what} stored unprotected; in production wrap it (${how}) and give loaders CUSTOS_KEY_PASSPHRASE_FILE`,
    );
  }
  return warnings;
}
