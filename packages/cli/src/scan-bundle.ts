import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The scan bundle's entry (scripts/bundle.mjs writes it), from the top of this package. */
export const SCAN_BUNDLE_ENTRY = 'bundle/scan-bin.js';

function modifiedAt(file: string): number | undefined {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs;
}

/**
 * Whether a bundle is as new as the builds it was made from: its entry exists and none of the
 * builds' `.tsbuildinfo` files (which `tsc -b` writes whenever it rebuilds a package) is newer
 * than it. A build info that is not there (an installed package need not ship one) does not
 * make the bundle stale.
 *
 * @example
 * ```ts
 * isBundleFresh('bundle/scan-bin.js', ['dist/.tsbuildinfo']); // false after a `tsc -b` that rebuilt
 * ```
 */
export function isBundleFresh(entry: string, buildInfos: readonly string[]): boolean {
  const bundled = modifiedAt(entry);
  if (bundled === undefined) return false;
  return buildInfos.every((file) => (modifiedAt(file) ?? Number.NEGATIVE_INFINITY) <= bundled);
}

/**
 * The URL of the scan bundle to run `custos scan` from (bin/custos.js), or undefined when there
 * is none as new as the CLI's, the scanner's and the core's builds: then the command runs from
 * `dist`, which is never stale against itself. A bundle left behind by `tsc -b` (development
 * without `npm run build`) is so never run.
 *
 * @example
 * ```ts
 * await import(freshScanBundle() ?? '../dist/bin.js');
 * ```
 */
export function freshScanBundle(): string | undefined {
  const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));
  const require = createRequire(import.meta.url);
  const buildInfos = [
    join(packageRoot, 'dist', '.tsbuildinfo'),
    ...['@custos/scan', '@custos/core'].map((name) =>
      join(dirname(require.resolve(`${name}/package.json`)), 'dist', '.tsbuildinfo'),
    ),
  ];
  const entry = join(packageRoot, SCAN_BUNDLE_ENTRY);
  return isBundleFresh(entry, buildInfos) ? pathToFileURL(entry).href : undefined;
}
