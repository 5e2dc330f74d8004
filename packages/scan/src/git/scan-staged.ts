import { resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import type { Finding } from '../engine/finding.js';
import { type ScanTextOptions, scanBytes } from '../engine/scan-text.js';
import { classifyContent, DEFAULT_MAX_FILE_BYTES, type FileLimits } from '../files/classify.js';
import { compileAllowlist } from '../policy/allowlist.js';
import { readObjects } from './cat-file.js';
import { gitFailed, runGit } from './run-git.js';

/** Options of {@link scanStaged}. */
export interface ScanStagedOptions extends Omit<ScanTextOptions, 'name'>, FileLimits {
  /** A directory inside the repository (default: the current one). */
  readonly repository?: string;
}

/** The lines each staged file adds: `git diff --cached -U0` hunks. */
async function addedLines(cwd: string): Promise<Map<string, Array<readonly [number, number]>>> {
  const diff = await runGit(
    [
      '-c',
      'core.quotePath=false',
      'diff',
      '--cached',
      // Paths from the top of the work tree whatever the directory (`diff.relative` set or not),
      // as `git cat-file` reads `:path`: no `git rev-parse --show-toplevel` spawn needed.
      '--no-relative',
      '--no-textconv',
      '-U0',
      '--no-color',
      '--no-ext-diff',
      '--no-renames',
      '--diff-filter=ACMT',
      '--src-prefix=a/',
      '--dst-prefix=b/',
    ],
    cwd,
  );
  const added = new Map<string, Array<readonly [number, number]>>();
  let ranges: Array<readonly [number, number]> | null = null;
  // A file's header runs from its `diff --git` line to its first hunk: past it every line is a
  // hunk header or a line of the file behind `+`, `-` or ` ` (an added `++ x` shows as `+++ x`).
  let inHeader = false;
  for (const line of diff.toString('utf8').split('\n')) {
    if (line.startsWith('diff --git ')) {
      inHeader = true;
      ranges = null;
      continue;
    }
    if (inHeader && line.startsWith('+++ ')) {
      // git ends the name with a tab when it holds a space (as GNU diff does).
      const path = line.slice(4).replace(/\t$/, '');
      ranges = path.startsWith('b/') ? [] : null;
      if (ranges !== null) added.set(path.slice(2), ranges);
      continue;
    }
    const hunk = /^@@ -\S+ \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk !== null) inHeader = false;
    if (hunk !== null && ranges !== null) {
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      if (count > 0) ranges.push([start, start + count - 1]);
    }
  }
  return added;
}

/**
 * Scans what is staged for the next commit (the index, not the work tree), reporting only
 * secrets on lines the commit adds: the pre-commit check.
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
  const added = await addedLines(cwd).catch((err: unknown) => {
    // Outside a repository `git diff` turns into `git diff --no-index`, which has no --cached.
    if (err instanceof CustosError && err.message.includes("unknown option `cached'")) {
      throw gitFailed(['diff'], 'not a git repository (or any of the parent directories)');
    }
    throw err;
  });
  const allowlist = compileAllowlist(options.allowlist);
  // Files the commit only shortens add no line a secret could be on: not even read.
  const paths = [...added]
    .filter(([path, ranges]) => ranges.length > 0 && !allowlist.allowsPath(path))
    .map(([path]) => path);
  const findings: Finding[] = [];
  if (paths.length === 0) return findings;
  let index = 0;
  await readObjects(
    paths.map((path) => `:${path}`),
    cwd,
    ({ content }) => {
      const path = paths[index++] as string;
      if (content === null || content.length > (options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES))
        return;
      const skip = classifyContent(path, content);
      if (skip === 'binary' || (skip === 'minified' && options.scanMinified !== true)) return;
      const ranges = added.get(path) ?? [];
      for (const finding of scanBytes(content, { ...options, name: path })) {
        if (ranges.some(([from, to]) => finding.line <= to && finding.endLine >= from)) {
          findings.push(finding);
        }
      }
    },
  );
  return findings;
}
