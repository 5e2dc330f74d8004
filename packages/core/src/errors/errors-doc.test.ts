import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CustosError, errorCodes, isCustosError, KeyNotFound } from './index.js';

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

  it('is recognised across copies of the package, its subclasses by their own copy only', async () => {
    // A second copy of the module, as a rotation plugin's @custos/core beside the server's bundle.
    const other = (await import(
      /* @vite-ignore */ `${new URL('./custos-error.ts', import.meta.url).href}?second-copy`
    )) as typeof import('./custos-error.js');
    expect(other.CustosError).not.toBe(CustosError);
    const foreign = new other.CustosError('ERR_KEY_NOT_FOUND', 'no key named "x"');
    expect(foreign).toBeInstanceOf(CustosError);
    expect(new CustosError('ERR_KEY_NOT_FOUND', 'x')).toBeInstanceOf(other.CustosError);
    expect(isCustosError(foreign, 'ERR_KEY_NOT_FOUND')).toBe(true);
    expect(isCustosError(foreign, 'ERR_KEY_EXISTS')).toBe(false);
    // Subclasses, of either copy, are instances of either CustosError.
    expect(new other.KeyNotFound('x')).toBeInstanceOf(CustosError);
    expect(new KeyNotFound('x')).toBeInstanceOf(other.CustosError);
    // A subclass answers for its own copy: test the code across copies.
    expect(new other.KeyNotFound('x')).not.toBeInstanceOf(KeyNotFound);
    expect(new KeyNotFound('x')).toBeInstanceOf(KeyNotFound);
    // Nothing else carries the mark.
    for (const value of [new Error('x'), { code: 'ERR_KEY_NOT_FOUND' }, null, 'ERR_X', undefined])
      expect(value instanceof CustosError).toBe(false);
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
