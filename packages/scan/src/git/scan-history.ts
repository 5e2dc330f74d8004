import { resolve } from 'node:path';
import type { Finding } from '../engine/finding.js';
import { type ScanTextOptions, scanBytes } from '../engine/scan-text.js';
import { classifyContent, DEFAULT_MAX_FILE_BYTES, type FileLimits } from '../files/classify.js';
import { compileAllowlist } from '../policy/allowlist.js';
import { blobOrigins } from './blob-origins.js';
import { readObjects } from './cat-file.js';
import { checkRevision } from './run-git.js';

/**
 * Options of {@link scanGitHistory}.
 *
 * @example
 * ```ts
 * const options: ScanGitHistoryOptions = { repository: '.', since: 'v1.2.0', branch: 'main' };
 * ```
 */
export interface ScanGitHistoryOptions extends Omit<ScanTextOptions, 'name'>, FileLimits {
  /** A directory inside the repository (default: the current one). */
  readonly repository?: string;
  /** Only what is new since this revision (commits and blobs reachable from it are left out). */
  readonly since?: string;
  /** Only this branch (or any revision) instead of every ref (`--all`). */
  readonly branch?: string;
}

/** The result of {@link scanGitHistory}. */
export interface GitHistoryReport {
  readonly findings: Finding[];
  /** Distinct blobs read (each once, however many commits hold it). */
  readonly blobsScanned: number;
  readonly bytesScanned: number;
}

/**
 * Scans git history by unique blob: every blob of the chosen revisions is read once with
 * `git cat-file --batch` and scanned with `scanBytes` under the path it first had; each secret
 * is reported once, with the commit, author and date that first introduced it (a file moved or
 * deleted later does not bring it back or hide it).
 *
 * @example
 * ```ts
 * import { scanGitHistory } from '@custos/scan';
 * const { findings } = await scanGitHistory({ repository: '.', since: 'origin/main' });
 * for (const f of findings) console.warn(`${f.commit} ${f.file}:${f.line} ${f.rule} ${f.redacted}`);
 * ```
 */
export async function scanGitHistory(
  options: ScanGitHistoryOptions = {},
): Promise<GitHistoryReport> {
  const cwd = resolve(options.repository ?? '.');
  const revisions = [
    options.branch === undefined ? '--all' : checkRevision(options.branch, 'the branch'),
  ];
  if (options.since !== undefined)
    revisions.push(`^${checkRevision(options.since, 'the --since revision')}`);
  const origins = await blobOrigins(revisions, cwd);
  const allowlist = compileAllowlist(options.allowlist);
  const wanted = origins.filter((origin) => !allowlist.allowsPath(origin.path));
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const seen = new Set<string>();
  const findings: Finding[] = [];
  let blobsScanned = 0;
  let bytesScanned = 0;
  await readObjects(
    wanted.map((origin) => origin.blob),
    cwd,
    ({ content }) => {
      const origin = wanted[blobsScanned++];
      if (origin === undefined || content === null || content.length > maxBytes) return;
      const skip = classifyContent(origin.path, content);
      if (skip === 'binary' || (skip === 'minified' && options.scanMinified !== true)) return;
      bytesScanned += content.length;
      for (const finding of scanBytes(content, { ...options, name: origin.path })) {
        if (seen.has(finding.fingerprint)) continue;
        seen.add(finding.fingerprint);
        findings.push({
          ...finding,
          ...(origin.commit !== undefined ? { commit: origin.commit } : {}),
          ...(origin.author !== undefined ? { author: origin.author } : {}),
          ...(origin.date !== undefined ? { date: origin.date } : {}),
        });
      }
    },
  );
  return { findings, blobsScanned, bytesScanned };
}
