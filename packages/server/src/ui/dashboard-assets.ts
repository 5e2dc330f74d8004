import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { resolveFromServerPackage } from '../package-files.js';

/** One built file of the dashboard, held in memory. */
export interface DashboardAsset {
  readonly body: Buffer;
  /** The gzip form, when it is smaller. */
  readonly gzip: Buffer | undefined;
  readonly contentType: string;
  /** A file whose name carries its content hash (Vite's `assets/`): it never changes. */
  readonly immutable: boolean;
}

/** The dashboard's files by their path under `/ui/` (`index.html`, `assets/index-3f2a.js`). */
export type DashboardAssets = ReadonlyMap<string, DashboardAsset>;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.map', '.svg', '.txt']);

/** More than a dashboard build ever holds: a wrong directory is refused rather than read whole. */
const MAX_FILES = 500;
const MAX_TOTAL_BYTES = 20 * 1024 * 1024;

/**
 * Where the dashboard's build is when the `@custos/ui` package is installed beside the server
 * (the repository's workspace): its `dist/`; undefined when the package is not there.
 *
 * @example
 * ```ts
 * const dir = defaultDashboardDir(); // '/repo/packages/ui/dist'
 * ```
 */
export function defaultDashboardDir(): string | undefined {
  try {
    return join(dirname(resolveFromServerPackage('@custos/ui/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

/**
 * Reads a dashboard build into memory: every regular file under `dir` (symbolic links and
 * anything else are left out), by its `/`-separated path. A request is then answered by a
 * lookup in this map, never by a file-system path made from the URL. Undefined when `dir`
 * holds no `index.html` (the dashboard is not built).
 *
 * @example
 * ```ts
 * const assets = await loadDashboardAssets('packages/ui/dist');
 * assets?.get('index.html')?.contentType; // 'text/html; charset=utf-8'
 * ```
 */
export async function loadDashboardAssets(dir: string): Promise<DashboardAssets | undefined> {
  const assets = new Map<string, DashboardAsset>();
  let total = 0;
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      if (!entry.isFile()) continue;
      const body = await readFile(join(dir, path));
      total += body.length;
      if (assets.size >= MAX_FILES || total > MAX_TOTAL_BYTES)
        throw new Error(`${dir} is larger than a dashboard build`);
      const extension = extname(entry.name).toLowerCase();
      const gzip = COMPRESSIBLE.has(extension) ? gzipSync(body, { level: 9 }) : undefined;
      assets.set(path, {
        body,
        gzip: gzip !== undefined && gzip.length < body.length ? gzip : undefined,
        contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
        immutable: path.startsWith('assets/'),
      });
    }
  };
  try {
    await walk('');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  return assets.has('index.html') ? assets : undefined;
}
