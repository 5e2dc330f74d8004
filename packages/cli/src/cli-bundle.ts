import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The bundle's folder (scripts/bundle.mjs writes it), from the top of this package. */
export const BUNDLE_DIR = 'bundle';

/** The workspace packages the bundle is made from (scripts/bundle.mjs bundles them). */
export const BUNDLED_PACKAGES: readonly string[] = [
  'custos',
  '@custos/scan',
  '@custos/core',
  '@custos/server',
  '@custos/reencrypt',
];

/**
 * Third-party packages bundled whole (scripts/bundle.mjs), each with the workspace package whose
 * dependency it is: the bundle is checked against the package.json of the copy that package
 * finds, so an update of it (a security fix, say) is run rather than the bundled copy.
 */
export const BUNDLED_THIRD_PARTY: Readonly<Record<string, string>> = { kysely: '@custos/server' };

/** Every package the bundle is checked against: {@link BUNDLED_PACKAGES}, then the third-party. */
export const BUNDLE_SOURCES: readonly string[] = [
  ...BUNDLED_PACKAGES,
  ...Object.keys(BUNDLED_THIRD_PARTY),
];

/**
 * The folder of a package the bundle is made from, as Node finds it from the CLI's folder
 * (`cliRoot`) now; a third-party package through the workspace package that depends on it.
 * Throws when the package is not installed there.
 *
 * @example
 * ```ts
 * bundleSourceRoot('/repo/packages/cli', 'kysely'); // '/repo/node_modules/kysely'
 * ```
 */
export function bundleSourceRoot(cliRoot: string, name: string): string {
  if (name === 'custos') return cliRoot;
  const require = createRequire(join(cliRoot, 'package.json'));
  const host = Object.hasOwn(BUNDLED_THIRD_PARTY, name) ? BUNDLED_THIRD_PARTY[name] : undefined;
  if (host === undefined) return dirname(require.resolve(`${name}/package.json`));
  // Its exports may not list package.json: the folder is the one its entry lies in.
  const entry = createRequire(require.resolve(`${host}/package.json`)).resolve(name);
  const folder = `${sep}node_modules${sep}${name.split('/').join(sep)}`;
  const at = entry.lastIndexOf(`${folder}${sep}`);
  if (at === -1) throw new Error(`${name} resolves outside a node_modules folder: ${entry}`);
  return entry.slice(0, at + folder.length);
}

/**
 * The file whose content identifies the build of a package the bundle is made from, in its
 * folder (`bundleSourceRoot`): a workspace package's `dist/.tsbuildinfo` (which `tsc -b`
 * rewrites with every build), a third-party package's package.json.
 *
 * @example
 * ```ts
 * bundleSourceFile('/repo/packages/cli', '@custos/scan'); // '/repo/packages/scan/dist/.tsbuildinfo'
 * ```
 */
export function bundleSourceFile(cliRoot: string, name: string): string {
  const root = bundleSourceRoot(cliRoot, name);
  return Object.hasOwn(BUNDLED_THIRD_PARTY, name)
    ? join(root, 'package.json')
    : join(root, 'dist', '.tsbuildinfo');
}

/**
 * The commands bin/custos.js runs from the bundle, each with the bundle's entry it starts:
 * `custos scan` without the rest of the command tree (the pre-commit check's start-up), and
 * `custos server`, whose ~740 ES modules loaded one by one from `dist` hold more memory for as
 * long as the server runs than the bundle's ~60 (2–10 MiB at idle, docs/operations.md). Every
 * other command runs from `dist`: several load the user's own modules (schema files), which
 * import `@custos/core` from `dist`, and a second copy of its classes in the bundle would not
 * recognise their objects (`instanceof`; CustosError excepted, which marks its errors).
 */
export const BUNDLED_COMMANDS: Readonly<Record<string, string>> = {
  scan: 'scan-bin',
  server: 'bin',
};

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
 * wrote (all there, at their sizes) and names exactly `packages`, each with the file that
 * identifies its build (`bundleSourceFile`) as it was then; and each package's file, found
 * where Node finds the package now (`buildInfoOf`), is still that file. Anything missing, malformed or unreadable counts as not fresh, never as an error: the
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
 * The URL of the bundle's entry to run `custos <command>` from (bin/custos.js), or undefined
 * when the command is not one of {@link BUNDLED_COMMANDS} or there is no bundle made from the
 * builds of {@link BUNDLE_SOURCES} as Node finds them now (`bundleSourceFile`): then the command
 * runs from `dist`. A bundle left behind by a `tsc -b` since (development without
 * `npm run build`), or beside another version of a bundled package, Kysely included, is so
 * never run. `CUSTOS_BUNDLE=0` runs from `dist`
 * always (a `dist` patched by hand or by patch-package, which changes no build info).
 *
 * @example
 * ```ts
 * await import(freshBundle(process.argv[2]) ?? '../dist/bin.js');
 * ```
 */
export function freshBundle(command: string | undefined): string | undefined {
  if (command === undefined || !Object.hasOwn(BUNDLED_COMMANDS, command)) return undefined;
  const entry = BUNDLED_COMMANDS[command] as string;
  if (process.env.CUSTOS_BUNDLE === '0') return undefined;
  const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));
  const bundleDir = join(packageRoot, BUNDLE_DIR);
  return isBundleFresh(bundleDir, BUNDLE_SOURCES, (name) => bundleSourceFile(packageRoot, name))
    ? pathToFileURL(join(bundleDir, `${entry}.js`)).href
    : undefined;
}
