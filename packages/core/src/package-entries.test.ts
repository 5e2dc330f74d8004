/**
 * What importing each entry of `@custos/core` costs and who may import it: there is no root
 * entry, native add-ons load only where their work needs them, and the `internal/*` entries
 * stay inside the server.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const corePackage = fileURLToPath(new URL('..', import.meta.url));
const repository = join(corePackage, '../..');

const { exports } = JSON.parse(await readFile(join(corePackage, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
};
const entries = Object.keys(exports).filter((e) => e !== './package.json');
const publicEntries = entries.filter((e) => !e.startsWith('./internal/'));

/**
 * The native add-ons an entry loads, by name; every entry not listed loads none. Argon2id
 * hashes passwords; bcrypt verifies legacy password hashes. (`./fields` loads Argon2 on the
 * first slow blind index, not on import.)
 */
const NATIVE_ADDONS: Readonly<Record<string, readonly string[]>> = {
  './passwords': ['argon2', 'bcrypt'],
};

/** Imports `specifier` in a fresh Node process and returns every file it dlopen'ed. */
async function dlopenedBy(specifier: string): Promise<string[]> {
  const script = `
    const dlopen = process.dlopen;
    const loaded = [];
    process.dlopen = function (module, filename, ...rest) {
      loaded.push(filename);
      return dlopen.call(this, module, filename, ...rest);
    };
    await import(${JSON.stringify(specifier)});
    process.stdout.write(JSON.stringify(loaded));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: corePackage,
  });
  return JSON.parse(stdout) as string[];
}

/** `argon2` or `bcrypt` for their binaries, the path itself for anything else. */
const addonName = (file: string) => /argon2|bcrypt/.exec(file)?.[0] ?? file;

describe('@custos/core entries', () => {
  it('has no root entry: applications import one subpath per concern', async () => {
    expect(entries).not.toContain('.');
    const script = `import('@custos/core').then(
      () => process.stdout.write('loaded'),
      (err) => process.stdout.write(String(err.code)),
    );`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: corePackage,
    });
    expect(stdout).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it.each(publicEntries)('%s loads only the native add-ons its work needs', async (entry) => {
    const loaded = await dlopenedBy(`@custos/core${entry.slice(1)}`);
    expect(loaded.map(addonName).sort()).toEqual([...(NATIVE_ADDONS[entry] ?? [])].sort());
  });

  it('sees a native add-on when one is loaded (the check above is not blind)', async () => {
    const loaded = await dlopenedBy('@custos/core/passwords');
    expect(loaded.length).toBe(2);
    expect(loaded.every((file) => file.endsWith('.node'))).toBe(true);
  });

  it('internal entries are imported by @custos/server only', async () => {
    const importers: string[] = [];
    for (const dir of ['packages', 'bench', 'docs']) {
      const files = await readdir(join(repository, dir), { recursive: true, withFileTypes: true });
      for (const file of files) {
        const path = join(file.parentPath, file.name);
        if (!file.isFile() || path.includes('node_modules') || path.includes('/dist/')) continue;
        // The internal entries' own files show how to import them.
        if (!/\.(ts|js|md)$/.test(file.name) || path.includes('core/src/internal/')) continue;
        if (/from '@custos\/core\/internal\//.test(await readFile(path, 'utf8'))) {
          importers.push(relative(repository, path));
        }
      }
    }
    expect(importers.length).toBeGreaterThan(0);
    expect(importers.filter((path) => !path.startsWith('packages/server/'))).toEqual([]);
  });
});
