import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The scan bundle's folder (scripts/bundle.mjs writes it), from the top of this package. */
export const SCAN_BUNDLE_DIR = 'bundle';

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

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
  /** Its `dist/.tsbuildinfo`, relative to the bundle, where the bundler found it. */
  readonly path?: unknown;
  readonly sha256?: unknown;
  readonly stat?: Partial<FileStatus>;
}

const STATUS_FIELDS = ['dev', 'ino', 'size', 'mtimeMs', 'ctimeMs'] as const;

function unchangedSince(file: string, recorded: Partial<FileStatus> | undefined): boolean {
  if (typeof recorded !== 'object' || recorded === null) return false;
  const now = statSync(file, { throwIfNoEntry: false });
  return now !== undefined && STATUS_FIELDS.every((field) => now[field] === recorded[field]);
}

function sameBuild(
  name: string,
  build: RecordedBuild,
  bundleDir: string,
  buildInfoOf: (name: string) => string,
): boolean {
  // Where the bundle was made: the very file it read, not written or replaced since (a write
  // or a new file changes its change time or inode), known without hashing it.
  if (typeof build.path === 'string' && unchangedSince(resolve(bundleDir, build.path), build.stat))
    return true;
  // Elsewhere (an installed package, times set by the archive): the build info of the package
  // as Node finds it now, by content.
  let buildInfo: Buffer | undefined;
  try {
    buildInfo = readIfThere(buildInfoOf(name));
  } catch {
    return false; // the package is not installed where it is looked for
  }
  return (
    buildInfo !== undefined && createHash('sha256').update(buildInfo).digest('hex') === build.sha256
  );
}

/**
 * Whether the bundle in `bundleDir` was made from the builds installed now: its
 * `manifest.json` names each bundled package with its `dist/.tsbuildinfo` (which `tsc -b`
 * rewrites with every build) as it was then, and each of those files, found by
 * `buildInfoOf(name)`, still holds the same content. Anything missing or unreadable counts as
 * not fresh: the caller then runs the unbundled code, which is never stale against itself.
 * Contents, not times: `npm pack` gives every file the same time, and copies may not keep
 * them; the file status only spares the hashing on the machine that bundled.
 *
 * @example
 * ```ts
 * isBundleFresh('bundle', (name) => `node_modules/${name}/dist/.tsbuildinfo`);
 * ```
 */
export function isBundleFresh(bundleDir: string, buildInfoOf: (name: string) => string): boolean {
  const manifest = readIfThere(join(bundleDir, 'manifest.json'));
  if (manifest === undefined) return false;
  let builds: unknown;
  try {
    builds = (JSON.parse(manifest.toString('utf8')) as { builds?: unknown }).builds;
  } catch {
    return false;
  }
  if (typeof builds !== 'object' || builds === null) return false;
  const entries = Object.entries(builds as Record<string, RecordedBuild>);
  return (
    entries.length > 0 &&
    entries.every(
      ([name, build]) =>
        typeof build === 'object' &&
        build !== null &&
        sameBuild(name, build, bundleDir, buildInfoOf),
    )
  );
}

/**
 * The URL of the scan bundle to run `custos scan` from (bin/custos.js), or undefined when there
 * is none made from the CLI's, the scanner's and the core's builds as installed: then the
 * command runs from `dist`. A bundle left behind by a `tsc -b` since (development without
 * `npm run build`), or beside another version of a bundled package, is so never run.
 *
 * @example
 * ```ts
 * await import(freshScanBundle() ?? '../dist/bin.js');
 * ```
 */
export function freshScanBundle(): string | undefined {
  const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));
  const require = createRequire(import.meta.url);
  const bundleDir = join(packageRoot, SCAN_BUNDLE_DIR);
  const buildInfoOf = (name: string) => {
    const root = name === 'custos' ? packageRoot : dirname(require.resolve(`${name}/package.json`));
    return join(root, 'dist', '.tsbuildinfo');
  };
  return isBundleFresh(bundleDir, buildInfoOf)
    ? pathToFileURL(join(bundleDir, 'scan-bin.js')).href
    : undefined;
}
