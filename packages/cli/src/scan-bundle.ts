import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The scan bundle's folder (scripts/bundle.mjs writes it), from the top of this package. */
export const SCAN_BUNDLE_DIR = 'bundle';

/** The packages a scan bundle is made from (scripts/bundle.mjs's `BUNDLED`). */
export const BUNDLED_PACKAGES: readonly string[] = ['custos', '@custos/scan', '@custos/core'];

/** The status of a file that tells it unchanged: same file, size, and times of change. */
interface FileStatus {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** What the manifest records of one bundled package's build (scripts/bundle.mjs). */
interface RecordedBuild {
  readonly sha256?: unknown;
  readonly stat?: Partial<FileStatus>;
}

const STATUS_FIELDS = ['dev', 'ino', 'size', 'mtimeMs', 'ctimeMs'] as const;

function sameBuild(file: string, build: RecordedBuild): boolean {
  const now = statSync(file, { throwIfNoEntry: false });
  if (now === undefined) return false;
  // On the machine that bundled: the very file it read, not written or replaced since (a write
  // or a new file changes its change time or inode), known without hashing it.
  const recorded = build.stat;
  if (
    typeof recorded === 'object' &&
    recorded !== null &&
    STATUS_FIELDS.every((field) => now[field] === recorded[field])
  )
    return true;
  // Elsewhere (an installed package, times set by the archive): by content.
  return createHash('sha256').update(readFileSync(file)).digest('hex') === build.sha256;
}

/**
 * Whether the bundle in `bundleDir` can run: its `manifest.json` lists every file the bundle
 * wrote (all there, at their sizes) and names exactly `packages`, each with its
 * `dist/.tsbuildinfo` (which `tsc -b` rewrites with every build) as it was then; and each
 * package's build info, found where Node finds the package now (`buildInfoOf`), is still that
 * file. Anything missing, malformed or unreadable counts as not fresh, never as an error: the
 * caller then runs the unbundled code, which is never stale against itself. Contents, not
 * times: `npm pack` gives every file the same time, and copies may not keep them; the file
 * status only spares the hashing on the machine that bundled.
 *
 * @example
 * ```ts
 * isBundleFresh('bundle', ['custos'], () => 'dist/.tsbuildinfo');
 * ```
 */
export function isBundleFresh(
  bundleDir: string,
  packages: readonly string[],
  buildInfoOf: (name: string) => string,
): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as {
      builds?: unknown;
      outputs?: unknown;
    };
    const { builds, outputs } = manifest;
    if (typeof builds !== 'object' || builds === null) return false;
    if (typeof outputs !== 'object' || outputs === null) return false;
    const recorded = builds as Record<string, RecordedBuild>;
    const names = Object.keys(recorded);
    if (names.length !== packages.length || !packages.every((name) => names.includes(name)))
      return false;
    const files = Object.entries(outputs as Record<string, unknown>);
    if (files.length === 0) return false;
    for (const [file, size] of files) {
      if (file.includes('/') || file.includes('\\') || file.startsWith('.')) return false;
      if (statSync(join(bundleDir, file), { throwIfNoEntry: false })?.size !== size) return false;
    }
    return packages.every((name) => {
      const build = recorded[name];
      return typeof build === 'object' && build !== null && sameBuild(buildInfoOf(name), build);
    });
  } catch {
    return false; // unreadable, malformed, or a package not installed where it is looked for
  }
}

/**
 * The URL of the scan bundle to run `custos scan` from (bin/custos.js), or undefined when there
 * is none made from the CLI's, the scanner's and the core's builds as Node finds them now: then
 * the command runs from `dist`. A bundle left behind by a `tsc -b` since (development without
 * `npm run build`), or beside another version of a bundled package, is so never run.
 * `CUSTOS_SCAN_BUNDLE=0` runs from `dist` always (a `dist` patched by hand or by
 * patch-package, which changes no build info).
 *
 * @example
 * ```ts
 * await import(freshScanBundle() ?? '../dist/bin.js');
 * ```
 */
export function freshScanBundle(): string | undefined {
  if (process.env.CUSTOS_SCAN_BUNDLE === '0') return undefined;
  const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));
  const require = createRequire(import.meta.url);
  const bundleDir = join(packageRoot, SCAN_BUNDLE_DIR);
  const buildInfoOf = (name: string) => {
    const root = name === 'custos' ? packageRoot : dirname(require.resolve(`${name}/package.json`));
    return join(root, 'dist', '.tsbuildinfo');
  };
  return isBundleFresh(bundleDir, BUNDLED_PACKAGES, buildInfoOf)
    ? pathToFileURL(join(bundleDir, 'scan-bin.js')).href
    : undefined;
}
