import { resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import type { Finding } from '../engine/finding.js';
import { type ScanTextOptions, scanBytes } from '../engine/scan-text.js';
import { classifyContent, DEFAULT_MAX_FILE_BYTES, type FileLimits } from '../files/classify.js';
import { isPkcs12Path, pkcs12Finding } from '../files/pkcs12.js';
import type { SkippedFile } from '../files/scan-paths.js';
import { scannableBytes } from '../files/text-encoding.js';
import { compileAllowlist } from '../policy/allowlist.js';
import { readObjects } from './cat-file.js';
import { gitFailed } from './run-git.js';
import { type StagedFile, stagedFiles } from './staged-diff.js';

/** Options of {@link scanStaged}. */
export interface ScanStagedOptions extends Omit<ScanTextOptions, 'name'>, FileLimits {
  /** A directory inside the repository (default: the current one). */
  readonly repository?: string;
  /** Told of each staged file not scanned (too large, binary, minified), for the caller to say. */
  readonly onSkipped?: (skipped: SkippedFile) => void;
}

/**
 * Scans what is staged for the next commit (the index, not the work tree), reporting only
 * secrets on lines the commit adds: the pre-commit check. One `git diff` and one `git cat-file`
 * whatever the number of files; files git would call binary by their attributes are read as
 * text, and binary content (a NUL byte in the first 8 KiB) is skipped as in directory scans
 * (`onSkipped` is told), but PKCS#12 key stores, reported whole.
 *
 * @example
 * ```ts
 * import { scanStaged } from '@custos/scan';
 * const findings = await scanStaged({ repository: '.' });
 * if (findings.length > 0) process.exitCode = 1;
 * ```
 */
export async function scanStaged(options: ScanStagedOptions = {}): Promise<Finding[]> {
  const cwd = resolve(options.repository ?? '.');
  const staged = await stagedFiles(cwd).catch((err: unknown) => {
    // Outside a repository `git diff` turns into `git diff --no-index`, which has no --cached.
    if (err instanceof CustosError && err.message.includes("unknown option `cached'")) {
      throw gitFailed(['diff'], 'not a git repository (or any of the parent directories)');
    }
    throw err;
  });
  const allowlist = compileAllowlist(options.allowlist);
  // Files the commit only shortens are not listed (no line a secret could be on): not even read.
  const files = staged.filter((file) => !allowlist.allowsPath(file.name));
  const findings: Finding[] = [];
  if (files.length === 0) return findings;
  let index = 0;
  let unreadable: StagedFile | undefined;
  // By object id: a path would have to be written to git again, and a name holding a newline
  // or bytes that are not UTF-8 cannot be.
  await readObjects(
    files.map((file) => file.blob),
    cwd,
    ({ content }) => {
      const file = files[index++] as StagedFile;
      const { name, ranges } = file;
      if (content === null) {
        unreadable ??= file;
        return;
      }
      if (content.length > (options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES)) {
        options.onSkipped?.({ file: name, reason: 'huge' });
        return;
      }
      if (isPkcs12Path(name)) {
        findings.push(...pkcs12Finding({ relative: name }, content, options));
        return;
      }
      const text = scannableBytes(content);
      const skip = classifyContent(name, text, options);
      if (skip !== null) {
        options.onSkipped?.({ file: name, reason: skip });
        return;
      }
      // Decoded UTF-16 has other lines than git's (git splits at every 0x0A byte, inside
      // characters such as U+4E0A too): its findings are reported wherever they are.
      const anyLine = text !== content;
      for (const finding of scanBytes(text, { ...options, name })) {
        if (anyLine || ranges.some(([from, to]) => finding.line <= to && finding.endLine >= from)) {
          findings.push(finding);
        }
      }
    },
  );
  if (unreadable !== undefined) {
    // The index names it, so the repository should hold it: passing it as clean would let the
    // commit through unread.
    throw gitFailed(
      ['cat-file'],
      `staged blob ${unreadable.blob} (${unreadable.name}) is missing or cannot be read; \`git fsck\` tells what is damaged`,
    );
  }
  return findings;
}
