import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CustosError, errorCodes } from './index.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('docs/errors.md', () => {
  it('lists exactly the codes in errorCodes, each with its meaning', async () => {
    const doc = await readFile(join(root, 'docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|([^|]+)\|/gm)];
    const documented = new Map(rows.map((m) => [m[1] as string, (m[2] as string).trim()]));
    expect([...documented.keys()].sort()).toEqual(Object.keys(errorCodes).sort());
    for (const [code, meaning] of Object.entries(errorCodes)) {
      expect(documented.get(code), code).toBe(meaning);
    }
  });

  it('every ERR_ name in any package source is a registered code (strings, and identifiers: a message constant is not named like a code)', async () => {
    const packages = join(root, 'packages');
    const files = (
      await Promise.all(
        (await readdir(packages)).map((p) => sourceFiles(join(packages, p, 'src')).catch(() => [])),
      )
    ).flat();
    const used = new Set<string>();
    for (const file of files) {
      for (const m of (await readFile(file, 'utf8')).matchAll(/\bERR_[A-Z0-9_]+\b/g)) {
        used.add(m[0]);
      }
    }
    expect(files.length).toBeGreaterThan(5);
    const unknown = [...used].filter((code) => !Object.hasOwn(errorCodes, code));
    expect(unknown).toEqual([]);
  });

  it('CustosError keeps its code and class name', () => {
    const err = new CustosError('ERR_KEY_NOT_FOUND', 'no key named "x"');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_KEY_NOT_FOUND');
    expect(err.name).toBe('CustosError');
  });
});
