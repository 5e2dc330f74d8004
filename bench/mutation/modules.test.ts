import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MUTATION_MODULES, moduleFiles } from './modules.js';

describe('the files of a module', () => {
  let dir: string;
  let root: URL;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-mutation-files-'));
    root = pathToFileURL(`${dir}/`);
    await mkdir(join(dir, 'src/engine/deeper'), { recursive: true });
    for (const name of ['scan.ts', 'index.ts', 'scan.test.ts', 'test-helpers.ts', 'data.json'])
      await writeFile(join(dir, 'src/engine', name), '');
    await writeFile(join(dir, 'src/engine/deeper/inner.ts'), '');
    await mkdir(join(dir, 'src/engine/folder.ts'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('expands <folder>/*.ts to the folder’s own files, less the exclusions, beside named files', async () => {
    const files = await moduleFiles(
      ['src/engine/*.ts', 'src/other.ts', '!**/*.test.ts', '!**/test-*.ts'],
      root,
    );
    // Not deeper folders, not a folder named like a file, not other suffixes.
    expect(files).toEqual(['src/engine/index.ts', 'src/engine/scan.ts', 'src/other.ts']);
  });

  it('refuses the glob forms it would read differently from Stryker', async () => {
    await expect(moduleFiles(['src/**/*.ts'], root)).rejects.toThrow(/<folder>\/\*<suffix>/);
    await expect(moduleFiles(['src/engine/scan*'], root)).rejects.toThrow(/<folder>\/\*<suffix>/);
    await expect(moduleFiles(['src/engine/*.ts', '!src/engine/scan.ts'], root)).rejects.toThrow(
      /!\*\*\/<file name glob>/,
    );
  });

  it('finds files for every module of the repository (no pattern matches nothing)', async () => {
    const repository = new URL('../../', import.meta.url);
    for (const [name, module] of Object.entries(MUTATION_MODULES)) {
      const files = await moduleFiles(module.mutate, repository);
      expect(files.length, name).toBeGreaterThan(0);
      expect(
        files.filter((file) => file.endsWith('.test.ts')),
        name,
      ).toEqual([]);
    }
    const scanner = await moduleFiles(MUTATION_MODULES.scanner?.mutate ?? [], repository);
    expect(scanner).toContain('packages/scan/src/rules/checksums.ts');
    expect(scanner).toContain('packages/scan/src/engine/scan-text.ts');
  });

  it('checks every file of a module with its own checker configuration', async () => {
    const repository = new URL('../../', import.meta.url);
    const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', repository));
    const own = Object.entries(MUTATION_MODULES).filter(([, m]) => m.checkerTsconfig !== undefined);
    expect(own.map(([name]) => name)).toContain('scanner');
    for (const [name, module] of own) {
      const listed = execFileSync(
        process.execPath,
        [tsc, '-p', module.checkerTsconfig as string, '--listFilesOnly'],
        { cwd: fileURLToPath(repository), encoding: 'utf8' },
      );
      const program = new Set(
        listed.split('\n').map((line) => line.replace(fileURLToPath(repository), '')),
      );
      const files = await moduleFiles(module.mutate, repository);
      expect(
        files.filter((file) => !program.has(file)),
        name,
      ).toEqual([]);
    }
  }, 60_000);
});
