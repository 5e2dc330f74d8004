import { readFile, stat } from 'node:fs/promises';
import type { Finding } from '../engine/finding.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import { type ScanTextOptions, scanText } from '../engine/scan-text.js';
import { compileAllowlist } from '../policy/allowlist.js';
import { atLeast } from '../rules/rule.js';
import { classifyContent, type SkipReason } from './classify.js';
import type { ListedFile } from './list-files.js';

/** Limits of a file scan. */
export interface FileLimits {
  /** Files larger than this are skipped as `huge` (default 10 MiB). */
  readonly maxFileBytes?: number;
  /** Scan minified and generated files too (default false). */
  readonly scanMinified?: boolean;
}

/** What scanning one file gave. */
export interface FileResult {
  readonly findings: Finding[];
  readonly bytes: number;
  readonly skipped?: SkipReason;
}

export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
const PKCS12 = /\.(?:p12|pfx)$/i;

/**
 * Scans one file, read once. PKCS#12 key stores (`.p12`, `.pfx`) are binary: each is reported
 * as a whole (`pkcs12-file`, fingerprint of its bytes).
 */
export async function scanFile(
  file: ListedFile,
  options: Omit<ScanTextOptions, 'name'> & FileLimits,
): Promise<FileResult> {
  let content: Buffer;
  try {
    const info = await stat(file.absolute);
    if (info.size > (options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES)) {
      return { findings: [], bytes: 0, skipped: 'huge' };
    }
    content = await readFile(file.absolute);
  } catch {
    return { findings: [], bytes: 0, skipped: 'unreadable' };
  }
  if (PKCS12.test(file.relative))
    return { findings: pkcs12Finding(file, content, options), bytes: content.length };
  const skipped = classifyContent(file.relative, content);
  if (skipped === 'binary' || (skipped === 'minified' && options.scanMinified !== true)) {
    return { findings: [], bytes: 0, skipped };
  }
  return {
    findings: scanText(content.toString('utf8'), { ...options, name: file.relative }),
    bytes: content.length,
  };
}

function pkcs12Finding(
  file: ListedFile,
  content: Buffer,
  options: Omit<ScanTextOptions, 'name'>,
): Finding[] {
  const finding: Finding = {
    rule: 'pkcs12-file',
    file: file.relative,
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 1,
    fingerprint: fingerprintSecret(content.toString('base64'), options.fingerprintKey),
    confidence: 'medium',
    redacted: '…',
  };
  const allowed =
    !atLeast(finding.confidence, options.minConfidence ?? 'low') ||
    compileAllowlist(options.allowlist).allowsFinding(finding) ||
    options.baseline?.has(finding.fingerprint) === true;
  return allowed ? [] : [finding];
}
