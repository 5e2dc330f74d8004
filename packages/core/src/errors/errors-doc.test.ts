import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CustosError, errorCodes, isCustosError } from './index.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** The library section of `docs/errors.md` (the server's codes follow it): code → meaning. */
async function documentedLibraryCodes(): Promise<Map<string, string>> {
  const doc = await readFile(join(root, 'docs/errors.md'), 'utf8');
  const end = doc.search(/^## Server codes$/m);
  expect(end, 'docs/errors.md has a "## Server codes" section after the library codes').toBe(
    doc.lastIndexOf('\n## ') + 1,
  );
  const rows = doc.slice(0, end).matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|([^|]+)\|/gm);
  return new Map([...rows].map((m) => [m[1] as string, (m[2] as string).trim()]));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('docs/errors.md, library codes', () => {
  it('lists exactly the codes in errorCodes, each with its meaning', async () => {
    const documented = await documentedLibraryCodes();
    expect([...documented.keys()].sort()).toEqual(Object.keys(errorCodes).sort());
    for (const [code, meaning] of Object.entries(errorCodes)) {
      expect(documented.get(code), code).toBe(meaning);
    }
  });

  it('every ERR_ name in the library source is a library code (strings, and identifiers: a message constant is not named like a code)', async () => {
    const files = await sourceFiles(join(root, 'packages/core/src'));
    const used = new Set<string>();
    for (const file of files) {
      for (const m of (await readFile(file, 'utf8')).matchAll(/\bERR_[A-Z0-9_]+\b/g)) {
        used.add(m[0]);
      }
    }
    expect(files.length).toBeGreaterThan(5);
    expect(used.size).toBeGreaterThan(10);
    const unknown = [...used].filter((code) => !Object.hasOwn(errorCodes, code));
    expect(unknown).toEqual([]);
  });
});

describe('CustosError', () => {
  it('keeps its code and class name', () => {
    const err = new CustosError('ERR_KEY_NOT_FOUND', 'no key named "x"');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_KEY_NOT_FOUND');
    expect(err.name).toBe('CustosError');
    expect(isCustosError(err, 'ERR_KEY_NOT_FOUND')).toBe(true);
    expect(isCustosError(err, 'ERR_KEY_EXISTS')).toBe(false);
  });

  it('takes its code from a table, never from the argument (type-checked by tsc)', () => {
    // @ts-expect-error: not a code of the library's table, so it must not compile
    const unregistered = new CustosError('ERR_NOT_A_CODE', 'x');
    const fromAnotherTable = new CustosError<'ERR_OTHER_TABLE'>('ERR_OTHER_TABLE', 'x');
    expect(unregistered).toBeInstanceOf(CustosError);
    expect(isCustosError(fromAnotherTable)).toBe(true);
    expect(fromAnotherTable.code).toBe('ERR_OTHER_TABLE');
  });
});
