// Bundles `custos scan` (dist/scan-bin.js with the scanner and the parts of @custos/core it
// uses) into a few files in bundle/, which bin/custos.js runs while the builds it was made
// from are the ones installed (src/scan-bundle.ts): the pre-commit check then loads ~15 modules
// instead of ~80. Third-party packages stay imports, each one the CLI declares. Run by
// `npm run build`, `npm test` and `npm pack`; `node scripts/bundle.mjs [outdir]`.
import { createHash } from 'node:crypto';
import {
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));
const scanDist = join(packageDir('@custos/scan'), 'dist');
const cliManifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));

/** The workspace packages bundled, whose builds the bundle is checked against at run time. */
const { BUNDLED_PACKAGES: BUNDLED } = await import(
  pathToFileURL(join(packageRoot, 'dist', 'scan-bundle.js')).href
);

/**
 * Workspace packages the scan command must never reach: the bundle would hold its own copies of
 * their modules (and of @custos/core beside theirs), and their code finds files relative to
 * itself.
 */
const UNBUNDLED = ['@custos/server', '@custos/reencrypt', '@custos/test-support', '@custos/ui'];

/**
 * The bundled modules that use `import.meta`, with how many times, each use checked to work
 * from the bundle too: package files found by package name (package-files.js), the worker
 * scripts as entries of the bundle beside the code that starts them, the CLI's package.json one
 * level up as from dist/, the scan cache's identity from the bundle's own files. A module not
 * listed, or with more uses than listed, fails the build: read it, then list it here.
 */
const LOCATED = new Map([
  [join(scanDist, 'package-files.js'), 1],
  [join(scanDist, 'files', 'scan-paths.js'), 1],
  [join(scanDist, 'git', 'scan-history.js'), 1],
  [join(scanDist, 'files', 'scan-cache.js'), 1],
  [join(packageRoot, 'dist', 'root-command.js'), 1],
]);

/** Uses of `import.meta` in code (lines that are not comments), however spaced or split. */
const usesOfImportMeta = (source) =>
  source
    .split('\n')
    .filter((line) => !/^\s*(?:\*|\/\/|\/\*)/.test(line))
    .join('\n')
    .match(/\bimport\s*\.\s*meta\b/g)?.length ?? 0;

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const isBuiltin = (specifier) =>
  specifier.startsWith('node:') || builtinModules.includes(packageOf(specifier));

/**
 * What the bundle is checked against at run time (src/scan-bundle.ts), per bundled package: its
 * `dist/.tsbuildinfo` (which `tsc -b` rewrites with its build), by SHA-256, and its file status
 * then, so a run on the machine that bundled finds it unchanged by a `stat` instead of hashing.
 */
const buildsNow = () =>
  Object.fromEntries(
    BUNDLED.map((name) => {
      const file = join(packageDir(name), 'dist', '.tsbuildinfo');
      const { dev, ino, size, mtimeMs, ctimeMs } = statSync(file);
      return [
        name,
        {
          sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
          stat: { dev, ino, size, mtimeMs, ctimeMs },
        },
      ];
    }),
  );

/**
 * Writes the bundle into `outdir` (replacing what was there, whole) and returns its entry's
 * path. Beside the entry, `manifest.json` records the builds it was made from and the files
 * it wrote.
 *
 * @param {string} [outdir]
 * @returns {Promise<string>}
 */
export async function bundleScan(outdir = join(packageRoot, 'bundle')) {
  // Read before the build: a `tsc -b` that rewrites a build while esbuild reads dist leaves a
  // manifest of the older build, which the newer one does not match.
  const builds = buildsNow();
  const staging = `${outdir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  const undeclared = new Set();
  try {
    const result = await build({
      absWorkingDir: packageRoot,
      entryPoints: {
        'scan-bin': join(packageRoot, 'dist', 'scan-bin.js'),
        // At the bundle's top, where `new URL('./scan-worker.js', import.meta.url)` finds them.
        'scan-worker': join(scanDist, 'files', 'scan-worker.js'),
        'history-worker': join(scanDist, 'git', 'history-worker.js'),
      },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir: staging,
      metafile: true,
      legalComments: 'none',
      logLevel: 'warning',
      plugins: [
        {
          name: 'workspace-only',
          setup(builder) {
            builder.onResolve({ filter: /^[^./]/ }, (args) => {
              const name = packageOf(args.path);
              if (UNBUNDLED.includes(name)) {
                return {
                  errors: [{ text: `${args.importer} imports ${args.path}: not for custos scan` }],
                };
              }
              if (name.startsWith('@custos/')) return undefined;
              // Imported from the bundle, so resolved from the CLI's package: it must declare
              // it (the scanner's own declaration does not reach here).
              if (!isBuiltin(args.path) && cliManifest.dependencies?.[name] === undefined) {
                undeclared.add(`${name} (imported by ${args.importer})`);
              }
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    const problems = [...undeclared].map(
      (what) => `${what} is not a dependency of the custos package`,
    );
    for (const input of Object.keys(result.metafile.inputs)) {
      const file = resolve(packageRoot, input);
      const uses = usesOfImportMeta(readFileSync(file, 'utf8'));
      if (uses > (LOCATED.get(file) ?? 0)) {
        problems.push(
          `${file} uses import.meta ${uses} time(s): check that what it locates is found from the bundle, then list it in scripts/bundle.mjs`,
        );
      }
    }
    if (problems.length > 0) throw new Error(`bundle: ${problems.join('; ')}`);
    // Every file written, with its size: a bundle missing one (deleted, half copied) is not run.
    const outputs = Object.fromEntries(
      readdirSync(staging).map((file) => [file, statSync(join(staging, file)).size]),
    );
    const manifest = { builds, outputs };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(outdir, { recursive: true, force: true });
    renameSync(staging, outdir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return join(outdir, 'scan-bin.js');
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href
) {
  await bundleScan(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
}
