import type { Finding } from '../engine/finding.js';

/** One line of a `.gitleaksignore` file: a place, with the commit for history findings. */
export interface GitleaksIgnoreEntry {
  readonly commit?: string;
  readonly file: string;
  readonly line: number;
}

/**
 * Reads a `.gitleaksignore` file (gitleaks fingerprints, `<commit>:<file>:<rule>:<line>` or
 * `<file>:<rule>:<line>`), for migration. gitleaks' rule ids are not custos's, so an entry
 * silences any custos finding at the same file and line (and commit, when it names one).
 *
 * @example
 * ```ts
 * const entries = parseGitleaksIgnore(await readFile('.gitleaksignore', 'utf8'));
 * const kept = findings.filter((f) => !isGitleaksIgnored(entries, f));
 * ```
 */
export function parseGitleaksIgnore(text: string): GitleaksIgnoreEntry[] {
  const entries: GitleaksIgnoreEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(':');
    const number = Number(parts.pop());
    parts.pop(); // the gitleaks rule id
    if (!Number.isInteger(number) || number < 1 || parts.length === 0) continue;
    const commit =
      /^[0-9a-f]{40}$/.test(parts[0] as string) && parts.length > 1 ? parts.shift() : undefined;
    entries.push({
      ...(commit !== undefined ? { commit } : {}),
      file: parts.join(':'),
      line: number,
    });
  }
  return entries;
}

/**
 * Whether a `.gitleaksignore` entry names this finding's place.
 *
 * @example
 * ```ts
 * isGitleaksIgnored([{ file: 'app.env', line: 3 }], finding);
 * ```
 */
export function isGitleaksIgnored(
  entries: readonly GitleaksIgnoreEntry[],
  finding: Pick<Finding, 'file' | 'line' | 'commit'>,
): boolean {
  return entries.some(
    (entry) =>
      entry.file === finding.file &&
      entry.line === finding.line &&
      (entry.commit === undefined || entry.commit === finding.commit),
  );
}
