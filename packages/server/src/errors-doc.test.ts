import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustosError, errorCodes, isCustosError } from '@custos/core/errors';
import { describe, expect, it } from 'vitest';
import { isServerError, Sealed, ServerError, serverErrorCodes, VersionConflict } from './errors.js';
import { toHttpError } from './http/error-mapping.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The server section of `docs/errors.md` (the last `##` section): code → meaning. */
async function documentedServerCodes(): Promise<Map<string, string>> {
  const doc = await readFile(join(root, 'docs/errors.md'), 'utf8');
  const start = doc.search(/^## Server codes$/m);
  expect(start, 'docs/errors.md has a "## Server codes" section, last').toBe(
    doc.lastIndexOf('\n## ') + 1,
  );
  const rows = doc.slice(start).matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|([^|]+)\|/gm);
  return new Map([...rows].map((m) => [m[1] as string, (m[2] as string).trim()]));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('docs/errors.md, server codes', () => {
  it('lists exactly the codes in serverErrorCodes, each with its meaning', async () => {
    const documented = await documentedServerCodes();
    expect([...documented.keys()].sort()).toEqual(Object.keys(serverErrorCodes).sort());
    for (const [code, meaning] of Object.entries(serverErrorCodes)) {
      expect(documented.get(code), code).toBe(meaning);
    }
  });

  it('no code is in both tables', () => {
    expect(Object.keys(serverErrorCodes).filter((code) => Object.hasOwn(errorCodes, code))).toEqual(
      [],
    );
  });

  it('every ERR_ name in any package source is a code of one of the two tables', async () => {
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
    expect(files.length).toBeGreaterThan(50);
    const known = (code: string) =>
      Object.hasOwn(errorCodes, code) || Object.hasOwn(serverErrorCodes, code);
    expect([...used].filter((code) => !known(code))).toEqual([]);
    // Both tables are in use: the scan reads the server's sources as well as the library's.
    expect(
      [...used].filter((code) => Object.hasOwn(serverErrorCodes, code)).length,
    ).toBeGreaterThan(5);
  });
});

describe('server errors', () => {
  it('are CustosErrors, so isCustosError and the HTTP mapping see them', () => {
    const errors = [
      new ServerError('ERR_STORAGE_INTEGRITY', 'entry x failed'),
      new VersionConflict('entry x was changed concurrently'),
      new Sealed(),
    ];
    for (const err of errors) {
      expect(err).toBeInstanceOf(CustosError);
      expect(isCustosError(err)).toBe(true);
      expect(isServerError(err, err.code)).toBe(true);
    }
    expect(errors.map((e) => [e.name, e.code])).toEqual([
      ['ServerError', 'ERR_STORAGE_INTEGRITY'],
      ['VersionConflict', 'ERR_VERSION_CONFLICT'],
      ['Sealed', 'ERR_SEALED'],
    ]);
    expect(errors.map((e) => toHttpError(e).status)).toEqual([500, 400, 503]);
    expect(toHttpError(new Sealed()).body).toEqual({ errors: ['Vault is sealed'] });
  });

  it('isServerError tells codes apart and refuses what is not a CustosError', () => {
    const conflict = new VersionConflict('entry x was changed concurrently');
    expect(isServerError(conflict, 'ERR_STORAGE_INTEGRITY')).toBe(false);
    expect(isServerError(new CustosError('ERR_NOT_FOUND', 'x'), 'ERR_NOT_FOUND')).toBe(true);
    expect(isServerError({ code: 'ERR_VERSION_CONFLICT' }, 'ERR_VERSION_CONFLICT')).toBe(false);
    expect(isServerError(new Error('ERR_VERSION_CONFLICT'))).toBe(false);
  });

  it('a server code does not compile as a library code (type-checked by tsc)', () => {
    // @ts-expect-error: a server code is not in the library's table
    const misplaced = new CustosError('ERR_AUDIT_UNAVAILABLE', 'x');
    // @ts-expect-error: and library codes are not in the server's table
    const alsoMisplaced = new ServerError('ERR_NOT_FOUND', 'x');
    expect([misplaced.code, alsoMisplaced.code]).toEqual([
      'ERR_AUDIT_UNAVAILABLE',
      'ERR_NOT_FOUND',
    ]);
  });
});
