import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustosError } from '@custos/core/errors';
import type { Finding } from '../engine/finding.js';
import {
  cacheMac,
  defaultCacheKeyFile,
  ensureCacheKey,
  macMatches,
  readCacheKey,
} from './cache-key.js';
import { makeDirectories, replacePrivately } from './make-directories.js';

/**
 * A scan cache: for each file content (and name), its findings before allowlists, baselines and
 * the confidence threshold (applied on every run, so changing them never needs a fresh cache).
 * Worker threads get the stored entries as a plain object ({@link ScanCache.entries}); what
 * they find is recorded here by the calling thread.
 */
export interface ScanCache {
  /** Where the cache is kept (never scanned itself). */
  readonly path: string;
  /** The key that authenticates it (`undefined`: no home directory, nothing is trusted). */
  readonly keyFile: string | undefined;
  /**
   * Whether the file at `path` is a cache this user's key wrote: only then is it left out of
   * the scan (a file there that is not, committed perhaps, is scanned like any other).
   */
  readonly trusted: boolean;
  /** The stored findings of a content, if any. */
  get(key: string): readonly Finding[] | undefined;
  /** Records the findings of a content this run scanned or found in the cache. */
  record(key: string, findings: readonly Finding[], hit: boolean): void;
  /** Files this run found in the cache. */
  readonly hits: number;
  /** The stored entries, as sent to worker threads. */
  entries(): Readonly<Record<string, readonly Finding[]>>;
  /**
   * Writes the entries this run recorded (only those: the file does not grow without bound),
   * authenticated with the key (made first when there is none). Fails with `ERR_SCAN_CACHE`
   * naming the file when it cannot be written.
   */
  save(): Promise<void>;
}

/** Options of {@link openScanCache}. */
export interface ScanCacheOptions {
  /**
   * The file of the key that authenticates the cache (default `defaultCacheKeyFile`: in the
   * user's cache directory). Never inside a tree that is scanned: whoever can write there could
   * write a cache that hides a secret.
   */
  readonly keyFile?: string;
}

const FORMAT_NAME = 'custos-scan-cache/';
const FORMAT = `${FORMAT_NAME}2`;

interface CacheFile {
  readonly format: string;
  readonly scanner: string;
  readonly entries: Record<string, readonly Finding[]>;
  /** HMAC-SHA256 of {@link authenticated} under the key, hex. */
  readonly mac: string;
}

/** What the MAC covers: the format, the scanner's identity and the entries as serialised. */
function authenticated(scanner: string, entries: string): string {
  return `${FORMAT}\n${scanner}\n${entries}`;
}

let scannerIdentity: string | undefined;

/**
 * The identity of the scanner's code (its rules, engine and filters as built): a cache written by
 * another build is not used, so a rule changed in development is never hidden by a stale entry.
 * Run from the CLI's bundle (packages/cli/scripts/bundle.mjs), the scanner is the bundle's own
 * files, which have no folders: their identity is that of every module beside this one.
 */
function scannerCode(): string {
  if (scannerIdentity !== undefined) return scannerIdentity;
  const hash = createHash('sha256').update(FORMAT);
  const here = dirname(fileURLToPath(import.meta.url));
  const root = dirname(here);
  const folders = existsSync(join(root, 'engine'))
    ? ['engine', 'filters', 'rules', 'files'].map((folder) => join(root, folder))
    : [here];
  for (const folder of folders) {
    for (const name of readdirSync(folder).sort()) {
      if (!/\.[cm]?[jt]s$/.test(name) || name.endsWith('.d.ts')) continue;
      hash.update(name).update(readFileSync(join(folder, name)));
    }
  }
  scannerIdentity = hash.digest('hex');
  return scannerIdentity;
}

/**
 * The cache key of a file's content under `name` (the name decides the syntax and fixture
 * rules) and a fingerprint key (findings hold fingerprints made with it; only a hash of the key
 * enters the cache key).
 *
 * @example
 * ```ts
 * const key = cacheKey('src/app.ts', await readFile('src/app.ts'), undefined);
 * ```
 */
export function cacheKey(
  name: string,
  content: Uint8Array,
  fingerprintKey: string | undefined,
): string {
  return createHash('sha256')
    .update(
      createHash('sha256')
        .update(fingerprintKey ?? '')
        .digest(),
    )
    .update(name)
    .update('\0')
    .update(content)
    .digest('base64url');
}

/**
 * Opens the scan cache at `path`. It is trusted only when its MAC verifies under the key in
 * `keyFile` (a secret of this user's, outside the scanned tree): a cache file altered or
 * committed to the tree (an entry that says a file holds nothing) is ignored. It starts empty,
 * never failing, when the file is missing, unreadable, of another format, written by another
 * build of the scanner, without a MAC that verifies, or when the key is missing.
 *
 * @example
 * ```ts
 * const cache = await openScanCache('node_modules/.cache/custos/scan.json');
 * const report = await scanPaths(['.'], { cache });
 * await cache.save();
 * ```
 */
export async function openScanCache(
  path: string,
  options: ScanCacheOptions = {},
): Promise<ScanCache> {
  const scanner = scannerCode();
  const keyFile = options.keyFile ?? defaultCacheKeyFile();
  const { entries: stored, state } = await readEntries(path, scanner, await readCacheKey(keyFile));
  const used = new Map<string, readonly Finding[]>();
  let hits = 0;
  return {
    path: resolve(path),
    keyFile: keyFile === undefined ? undefined : resolve(keyFile),
    trusted: state === 'trusted',
    get hits() {
      return hits;
    },
    get: (key) => cachedFindings(stored, key),
    record(key, findings, hit) {
      used.set(key, findings);
      if (hit) hits++;
    },
    entries: () => stored,
    async save() {
      if (state === 'other') {
        throw new CustosError(
          'ERR_SCAN_CACHE',
          `cannot write the scan cache ${path}: a file that is no scan cache is there (choose another --cache-location)`,
        );
      }
      const key = await ensureCacheKey(keyFile);
      const entries = JSON.stringify(Object.fromEntries(used));
      const mac = cacheMac(key, authenticated(scanner, entries));
      const text = `{"format":${JSON.stringify(FORMAT)},"scanner":${JSON.stringify(scanner)},"entries":${entries},"mac":"${mac}"}`;
      await writePrivate(path, text).catch((err: NodeJS.ErrnoException) => {
        throw new CustosError(
          'ERR_SCAN_CACHE',
          `cannot write the scan cache ${path}: ${err.code ?? err.message}`,
          { cause: err },
        );
      });
    },
  };
}

/**
 * What lies at a cache's place: nothing, a cache this user's key wrote (`trusted`), a scan cache
 * written otherwise (another key, a forgery), or another file, which a save must not overwrite.
 */
type CacheFileState = 'absent' | 'trusted' | 'untrusted' | 'other';

/**
 * The cache file at `path`: its entries when its MAC verifies under `key` and this build wrote
 * it (else none), and what it is.
 */
async function readEntries(
  path: string,
  scanner: string,
  key: Buffer | undefined,
): Promise<{ entries: Record<string, readonly Finding[]>; state: CacheFileState }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const absent = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { entries: {}, state: absent ? 'absent' : 'other' };
  }
  let file: Partial<CacheFile> | null;
  try {
    file = JSON.parse(text) as Partial<CacheFile> | null;
  } catch {
    return { entries: {}, state: 'other' };
  }
  if (typeof file?.format !== 'string' || !file.format.startsWith(FORMAT_NAME))
    return { entries: {}, state: 'other' };
  const trusted =
    key !== undefined &&
    file.format === FORMAT &&
    typeof file.scanner === 'string' &&
    isRecord(file.entries) &&
    // The entries as this build serialises them: what it wrote, byte for byte.
    macMatches(key, authenticated(file.scanner, JSON.stringify(file.entries)), file.mac);
  if (!trusted) return { entries: {}, state: 'untrusted' };
  const entries =
    file.scanner === scanner ? (file.entries as Record<string, readonly Finding[]>) : {};
  return { entries, state: 'trusted' };
}

/** Writes `text` to `path` with mode 0600 (see `replacePrivately`). */
async function writePrivate(path: string, text: string): Promise<void> {
  await makeDirectories(dirname(path));
  // Findings are redacted, but fingerprints and places are nobody else's business.
  await replacePrivately(path, text);
}

/**
 * The findings stored for `key` in a cache's entries (in this thread or a worker's).
 *
 * @example
 * ```ts
 * const findings = cachedFindings(cache.entries(), key) ?? scanText(text, { name });
 * ```
 */
export function cachedFindings(
  entries: Readonly<Record<string, readonly Finding[]>>,
  key: string,
): readonly Finding[] | undefined {
  const findings = Object.hasOwn(entries, key) ? entries[key] : undefined;
  return Array.isArray(findings) ? findings : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
