import { readableName } from '../files/readable-name.js';
import { unquoteGitPath } from './quoted-path.js';
import { gitFailed, streamGit } from './run-git.js';

/** A file the next commit adds lines to. */
export interface StagedFile {
  /** Its path from the top of the work tree (bytes that are not UTF-8 shown as `\xNN`). */
  readonly name: string;
  /** The staged content's object id. */
  readonly blob: string;
  /** The lines added, first and last (1-based, inclusive). */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

/**
 * Every option that could change the output from what {@link DiffParser} reads is set here,
 * whatever the user's configuration says: prefixes (`diff.noprefix`, `diff.mnemonicPrefix`),
 * colour, external diff drivers and text conversion, quoting (`core.quotePath`), renames,
 * `diff.relative`, `diff.interHunkContext` (hunks merged over unchanged lines) and
 * `diff.submodule`. `--text` because attributes (`-diff`, `binary`) would hide a text file's
 * hunks: the scanner judges content itself. `--full-index`: the staged blob is read by its id
 * (an abbreviated one can be ambiguous), never by a path that would have to be written out
 * again (a name holding a newline cannot be asked for).
 */
const DIFF_ARGS = [
  '-c',
  'core.quotePath=true',
  'diff',
  '--cached',
  // Paths from the top of the work tree whatever the directory (`diff.relative` set or not).
  '--no-relative',
  '--no-textconv',
  '--no-ext-diff',
  '--no-color',
  '--no-renames',
  '--text',
  '--full-index',
  '--submodule=short',
  '-U0',
  '--inter-hunk-context=0',
  '--diff-filter=ACMT',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

/** Longest start of a line kept: a quoted path of 4096 bytes takes at most 16 Ki characters. */
const KEPT_LINE_BYTES = 64 * 1024;

const INDEX_LINE = /^index [0-9a-f]+\.\.([0-9a-f]+)(?: ([0-7]+))?$/;
const MODE_LINE = /^new (?:file )?mode ([0-7]+)$/;
const HUNK_LINE = /^@@ -\S+ \+(\d+)(?:,(\d+))? @@/;
const GITLINK = '160000';

interface Entry {
  name: string | null;
  blob: string | null;
  mode: string | null;
  readonly ranges: Array<readonly [number, number]>;
}

/**
 * Reads `git diff --cached -U0` output line by line, in a small state machine: a file's header
 * runs from its `diff --git` line to its first hunk; past it, every line is a hunk header or a
 * line of the file behind `+`, `-`, ` ` or `\` (an added `++ x` shows as `+++ x`), and only the
 * next `diff --git` starts another file. Lines are handed over as bytes and only header lines
 * are decoded, so a large file's added lines cost no more than finding their ends.
 */
class DiffParser {
  readonly files: StagedFile[] = [];
  private entry: Entry | null = null;
  private inHeader = false;
  private head: Buffer[] = [];
  private kept = 0;

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(10); end >= 0; end = chunk.indexOf(10, start)) {
      this.keep(chunk.subarray(start, end));
      this.endLine();
      start = end + 1;
    }
    this.keep(chunk.subarray(start));
  }

  end(): StagedFile[] {
    if (this.kept > 0) this.endLine();
    this.finishFile();
    return this.files;
  }

  private keep(part: Buffer): void {
    if (this.kept >= KEPT_LINE_BYTES || part.length === 0) return;
    const kept = part.subarray(0, KEPT_LINE_BYTES - this.kept);
    this.head.push(kept);
    this.kept += kept.length;
  }

  private endLine(): void {
    const line = this.head.length === 1 ? (this.head[0] as Buffer) : Buffer.concat(this.head);
    this.head = [];
    this.kept = 0;
    const first = line[0];
    // A line of a hunk (`+`, `-`, ` `, `\ No newline at end of file`): nothing to read.
    if (!this.inHeader && (first === 0x2b || first === 0x2d || first === 0x20 || first === 0x5c))
      return;
    this.read(line.toString('latin1'));
  }

  private read(line: string): void {
    if (line.startsWith('diff --git ')) {
      this.finishFile();
      this.entry = { name: null, blob: null, mode: null, ranges: [] };
      this.inHeader = true;
      return;
    }
    const entry = this.entry;
    if (entry === null) return;
    const hunk = HUNK_LINE.exec(line);
    if (hunk !== null) {
      this.inHeader = false;
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      if (count > 0) entry.ranges.push([start, start + count - 1]);
      return;
    }
    if (!this.inHeader) return;
    const index = INDEX_LINE.exec(line);
    if (index !== null) {
      entry.blob = index[1] as string;
      entry.mode = index[2] ?? entry.mode;
      return;
    }
    const mode = MODE_LINE.exec(line);
    if (mode !== null) entry.mode = mode[1] as string;
    else if (line.startsWith('+++ ')) entry.name = newName(line.slice(4));
  }

  private finishFile(): void {
    const entry = this.entry;
    this.entry = null;
    if (entry === null || entry.name === null || entry.blob === null) return;
    if (entry.mode === GITLINK || entry.ranges.length === 0 || /^0+$/.test(entry.blob)) return;
    this.files.push({ name: entry.name, blob: entry.blob, ranges: entry.ranges });
  }
}

/** The path of a `+++ ` line, `null` for `/dev/null` (the file is deleted). */
function newName(text: string): string | null {
  // git ends the name with a tab when it holds a space (as GNU diff does).
  const shown = text.endsWith('\t') ? text.slice(0, -1) : text;
  if (shown === '/dev/null') return null;
  const bytes = unquoteGitPath(shown);
  if (bytes === null || bytes.length < 3 || bytes[0] !== 0x62 || bytes[1] !== 0x2f) {
    throw gitFailed(['diff'], 'unexpected output (a file name without its b/ prefix)');
  }
  return readableName(bytes.subarray(2));
}

/**
 * What the next commit adds, file by file: one `git diff --cached -U0` read as it comes.
 *
 * @example
 * ```ts
 * for (const file of await stagedFiles('.')) console.log(file.name, file.ranges);
 * ```
 */
export async function stagedFiles(cwd: string): Promise<StagedFile[]> {
  const parser = new DiffParser();
  await streamGit(DIFF_ARGS, cwd, (chunk) => parser.push(chunk));
  return parser.end();
}
