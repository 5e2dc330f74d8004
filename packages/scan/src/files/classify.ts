/** Limits of a file scan. */
export interface FileLimits {
  /** Files larger than this are skipped as `huge` (default 10 MiB). */
  readonly maxFileBytes?: number;
  /** Scan minified and generated files too (default false). */
  readonly scanMinified?: boolean;
}

/** Files larger than this are skipped as `huge` unless `maxFileBytes` says otherwise. */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Why a file was not scanned. */
export type SkipReason = 'binary' | 'minified' | 'huge' | 'unreadable';

/** Minified scripts and stylesheets, and source maps (of scripts, stylesheets and TypeScript). */
const MINIFIED_NAME = /\.min\.(?:[cm]?js|css)$|\.(?:[cm]?js|css|[cm]?ts|tsx|jsx)\.map$/i;
/**
 * Where a long-lined file is generated code: scripts, stylesheets and SVG. Never data or markup
 * people write secrets into (JSON, HTML): a one-line JSON configuration is still configuration.
 */
const MINIFIABLE = /\.(?:[cm]?js|css|svg)$/i;

/**
 * Whether `content` should be skipped: binary (a NUL byte in its first 8 KiB) or minified /
 * generated (a `.min.js`-style name or a source map, or a script, stylesheet or SVG whose first
 * 64 KiB has a line over 5,000 characters and averages over 500 per line).
 *
 * @example
 * ```ts
 * classifyContent('dist/app.min.js', buffer); // "minified"
 * ```
 */
export function classifyContent(
  path: string,
  content: Buffer,
  /** `scanMinified: true` scans minified and generated files: only binary is skipped. */
  limits: FileLimits = {},
): SkipReason | null {
  if (content.subarray(0, 8192).includes(0)) return 'binary';
  if (limits.scanMinified === true) return null;
  const minified = minifiedByName(path);
  if (minified === 'name') return 'minified';
  if (minified === 'lines') {
    const head = content.subarray(0, 65536).toString('latin1');
    const lines = head.split('\n');
    const longest = lines.reduce((max, line) => Math.max(max, line.length), 0);
    if (longest > 5000 && head.length / lines.length > 500) return 'minified';
  }
  return null;
}

/**
 * What the name of a file says of it being minified ({@link classifyContent}): `name`, always
 * (a `.min.js`-style name or a source map); `lines`, when its lines are long (a script,
 * stylesheet, JSON or markup); `null`, never.
 *
 * @example
 * ```ts
 * minifiedByName('dist/app.js'); // "lines"
 * ```
 */
export function minifiedByName(path: string): 'name' | 'lines' | null {
  if (MINIFIED_NAME.test(path)) return 'name';
  return MINIFIABLE.test(path) ? 'lines' : null;
}
