// Bundles the CLI (dist/bin.js, and dist/scan-bin.js: `custos scan` without the rest of the
// command tree) with the workspace packages it uses and Kysely into some 200 files in bundle/,
// which bin/custos.js runs `custos scan` and `custos server` from while the builds it was made
// from are the ones installed (src/cli-bundle.ts): the pre-commit check then loads
// ~15 modules instead of ~80, and the server ~60 ES modules instead of ~740, which it holds in
// memory for as long as it runs. Other third-party packages stay imports, each one the CLI
// declares as the bundled package that uses it does. Run by `npm run build`, `npm test` and
// `npm pack`; `node scripts/bundle.mjs [outdir]`.
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
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));
const distOf = (name) => join(packageDir(name), 'dist');
const scanDist = distOf('@custos/scan');
const serverDist = distOf('@custos/server');
const coreDist = distOf('@custos/core');
const readManifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const cliManifest = readManifest(packageRoot);

/** The packages bundled, whose builds the bundle is checked against at run time. */
const {
  BUNDLED_PACKAGES: BUNDLED,
  BUNDLED_THIRD_PARTY: THIRD_PARTY,
  BUNDLE_SOURCES: SOURCES,
  bundleSourceFile,
  bundleSourceRoot,
} = await import(pathToFileURL(join(packageRoot, 'dist', 'cli-bundle.js')).href);
const { checkDeclarations, otherCopies } = await import(
  pathToFileURL(join(packageRoot, 'dist', 'bundle-declarations.js')).href
);
const { asciiSource } = await import(
  pathToFileURL(join(packageRoot, 'dist', 'ascii-source.js')).href
);

/** Workspace packages the CLI must never reach: test helpers, and the dashboard's sources. */
const UNBUNDLED = ['@custos/test-support', '@custos/ui'];

/**
 * Third-party packages bundled too (src/cli-bundle.ts): Kysely's ~260 modules, loaded one by
 * one, hold some 4 MiB of the server's memory. Pure JavaScript without `import.meta` (the check
 * below holds that), used by the bundled code alone: the server's and `reencrypt`'s databases
 * are their own.
 */
const BUNDLED_THIRD_PARTY = Object.keys(THIRD_PARTY);

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
  // The server's own package.json and the dashboard, by package name.
  [join(serverDist, 'package-files.js'), 1],
  // Third-party packages the CLI declares as the server and core do (checkDeclarations).
  [join(serverDist, 'metrics', 'prom-classes.js'), 1],
  [join(serverDist, 'policy', 'hcl.js'), 1],
  [join(serverDist, 'rotation', 'rotation-schedule.js'), 1],
  [join(serverDist, 'alerts', 'email-delivery.js'), 1],
  [join(serverDist, 'database', 'load-pg.js'), 1],
  [join(coreDist, 'metrics', 'prometheus.js'), 1],
  [join(coreDist, 'lib', 'lazy-zod.js'), 1],
  [join(coreDist, 'fields', 'blind-index.js'), 1],
  [join(coreDist, 'crypto', 'aead.js'), 1],
  // A builtin (node:tls) required instead of imported: found from anywhere.
  [join(coreDist, 'tls', 'node-tls.js'), 1],
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
 * What the bundle is checked against at run time (src/cli-bundle.ts), per bundled package: the
 * file that identifies its build (`bundleSourceFile`), by SHA-256, and its file status then, so
 * a run on the machine that bundled finds it unchanged by a `stat` instead of hashing.
 */
const buildsNow = () =>
  Object.fromEntries(
    SOURCES.map((name) => {
      const file = bundleSourceFile(packageRoot, name);
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

/** Whether the CLI's package.json declares `name`, in any of the ways a package can. */
const declaredByCli = (name) =>
  ['dependencies', 'optionalDependencies', 'peerDependencies'].some(
    (field) => cliManifest[field]?.[name] !== undefined,
  );

/** The package.json of each bundled workspace package but the CLI's own. */
const bundledManifests = () =>
  BUNDLED.filter((name) => name !== cliManifest.name).map((name) => readManifest(packageDir(name)));

/**
 * Writes the bundle into `outdir` (replacing what was there, whole) and returns its entry's
 * path. Beside the entry, `manifest.json` records the builds it was made from and the files
 * it wrote.
 *
 * @param {string} [outdir]
 * @returns {Promise<string>}
 */
export async function bundleCli(outdir = join(packageRoot, 'bundle')) {
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
        bin: join(packageRoot, 'dist', 'bin.js'),
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
      // Classes keep their names (esbuild would rename some, `_Secret`): as from dist.
      keepNames: true,
      logLevel: 'warning',
      plugins: [
        {
          name: 'workspace-only',
          setup(builder) {
            builder.onResolve({ filter: /^[^./]/ }, (args) => {
              const name = packageOf(args.path);
              if (UNBUNDLED.includes(name)) {
                return {
                  errors: [{ text: `${args.importer} imports ${args.path}: not for the CLI` }],
                };
              }
              if (name.startsWith('@custos/') || BUNDLED_THIRD_PARTY.includes(name))
                return undefined;
              // Imported from the bundle, so resolved from the CLI's package: it must declare
              // it (the scanner's own declaration does not reach here).
              if (!isBuiltin(args.path) && !declaredByCli(name)) {
                undeclared.add(`${name} (imported by ${args.importer})`);
              }
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    const problems = [
      ...[...undeclared].map((what) => `${what} is not a dependency of the custos package`),
      ...checkDeclarations(cliManifest, bundledManifests(), BUNDLED_THIRD_PARTY),
    ];
    // Each package bundled is the copy the bundle is checked against: another copy (nested
    // under a package that pins another version) would run unchecked.
    const roots = SOURCES.map((name) => ({ name, root: bundleSourceRoot(packageRoot, name) }));
    const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(packageRoot, input));
    problems.push(...otherCopies(inputs, roots, sep));
    for (const file of inputs) {
      const uses = usesOfImportMeta(readFileSync(file, 'utf8'));
      if (uses > (LOCATED.get(file) ?? 0)) {
        problems.push(
          `${file} uses import.meta ${uses} time(s): check that what it locates is found from the bundle, then list it in scripts/bundle.mjs`,
        );
      }
    }
    if (problems.length > 0) throw new Error(`bundle: ${problems.join('; ')}`);
    // ASCII only, so that V8 holds each module's source one byte per character (ascii-source.ts).
    for (const file of readdirSync(staging).filter((name) => name.endsWith('.js'))) {
      const source = readFileSync(join(staging, file), 'utf8');
      const ascii = asciiSource(source);
      if (ascii !== source) writeFileSync(join(staging, file), ascii);
    }
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
  await bundleCli(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
}
