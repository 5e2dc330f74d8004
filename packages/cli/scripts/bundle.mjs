// Bundles `custos scan` (dist/scan-bin.js with the scanner and the parts of @custos/core it
// uses) into a few files in bundle/, which bin/custos.js runs while they are as new as the
// build (src/scan-bundle.ts): the pre-commit check then loads ~15 modules instead of ~80.
// Third-party packages stay imports. Run by `npm run build` and `npm test`; `node
// scripts/bundle.mjs [outdir]`.
import { readFileSync, rmSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scanDist = join(
  dirname(createRequire(import.meta.url).resolve('@custos/scan/package.json')),
  'dist',
);

/**
 * Workspace packages the scan command must never reach: the bundle would hold its own copies of
 * their modules (and of @custos/core beside theirs), and their code finds files relative to
 * itself.
 */
const UNBUNDLED = ['@custos/server', '@custos/reencrypt', '@custos/test-support', '@custos/ui'];

/**
 * The bundled modules that locate something from `import.meta.url`, each checked to find it
 * from the bundle too: package files by package name (package-files.js), the worker scripts
 * as entries of the bundle beside the code that starts them, the CLI's package.json one level
 * up as from dist/, the scan cache's identity from the bundle's own files. A module that is not
 * in this list and uses `import.meta.url` fails the build: read it, then add it here.
 */
const LOCATED = [
  join(scanDist, 'package-files.js'),
  join(scanDist, 'files', 'scan-paths.js'),
  join(scanDist, 'git', 'scan-history.js'),
  join(scanDist, 'files', 'scan-cache.js'),
  join(packageRoot, 'dist', 'root-command.js'),
];

/** Code (not comments) that uses `import.meta.url`. */
const USES_LOCATION = /^(?!\s*(?:\*|\/\/)).*import\.meta\.url/m;

/**
 * Writes the bundle into `outdir` (replacing what was there) and returns its entry's path.
 *
 * @param {string} [outdir]
 * @returns {Promise<string>}
 */
export async function bundleScan(outdir = join(packageRoot, 'bundle')) {
  rmSync(outdir, { recursive: true, force: true });
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
    outdir,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [
      {
        name: 'workspace-only',
        setup(builder) {
          builder.onResolve({ filter: /^[^./]/ }, (args) => {
            const refused = UNBUNDLED.find(
              (name) => args.path === name || args.path.startsWith(`${name}/`),
            );
            if (refused !== undefined) {
              return {
                errors: [{ text: `${args.importer} imports ${args.path}: not for custos scan` }],
              };
            }
            if (args.path.startsWith('@custos/')) return undefined;
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const unchecked = Object.keys(result.metafile.inputs)
    .map((input) => resolve(packageRoot, input))
    .filter((input) => USES_LOCATION.test(readFileSync(input, 'utf8')) && !LOCATED.includes(input));
  if (unchecked.length > 0) {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(
      `bundle: ${unchecked.join(', ')} use import.meta.url; check that what they locate is found from the bundle, then list them in scripts/bundle.mjs`,
    );
  }
  // The entry's time is the bundle's: src/scan-bundle.ts compares it with the builds'.
  const entry = join(outdir, 'scan-bin.js');
  const now = new Date();
  utimesSync(entry, now, now);
  return entry;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleScan(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
}
