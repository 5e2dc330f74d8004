import { type ChainLine, parseChainLine } from './audit-continuity.js';
import { GENESIS_HASH, lineHash } from './audit-line.js';
import {
  type AuditVerification,
  DEFAULT_CLOCK_SKEW_MS,
  type VerifyOptions,
  verifyAuditLog,
} from './audit-verify.js';

/** One file of a sink's log, by the name to report it under. */
export interface AuditFileInput {
  readonly name: string;
  readonly text: string;
}

/** One file's verification, within a set. */
export interface FileVerification extends AuditVerification {
  readonly name: string;
}

/** A file deleted by retention, as the chain recorded it. */
export interface RetentionRecord {
  readonly file: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  /** The `retention` entry that records it, and where. */
  readonly recordedAt: { readonly file: string; readonly seq: number; readonly time: string };
}

/** The result of verifying a set of files as one chain. */
export interface AuditSetVerification {
  readonly ok: boolean;
  /** Problems of the set (gaps, overlaps, broken links between files), each naming its files. */
  readonly problems: string[];
  readonly warnings: string[];
  readonly notes: string[];
  /** Every file's own verification, in chain order (files without entries last). */
  readonly files: FileVerification[];
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /** The files the chain records as deleted by retention. */
  readonly deleted: RetentionRecord[];
}

/** Options for {@link verifyAuditFiles}. */
export interface VerifyFilesOptions extends VerifyOptions {
  /**
   * Take a set that begins after the chain's start, with no retention entry for the files
   * before it, as a warning instead of a problem (to verify only recent files).
   */
  readonly allowEarlierFiles?: boolean;
}

/** What the set check needs of a file: its ends and the retention entries it holds. */
interface Ends {
  readonly input: AuditFileInput;
  readonly firstSeq: number | undefined;
  readonly firstPrev: string | undefined;
  readonly firstMs: number;
  readonly lastSeq: number | undefined;
  readonly lastHash: string | undefined;
  readonly lastMs: number;
  readonly retention: RetentionRecord[];
}

// Per-file findings that the set judges itself (a file's link to the one before it, and an end
// that the next file continues): the single-file wording, matched by its start.
const CONTINUES_EARLIER = 'the chain starts at seq ';
const NOT_CLOSED = 'the log was not closed';

/**
 * Verifies several files of one sink's log (rotated files and the current one, given in any
 * order) as one chain: each file on its own ({@link verifyAuditLog}), then the set, ordered by
 * the chain: every file's first line follows the last line of the file before it (next `seq`,
 * `prev` equal to its hash), so a missing file, a file given twice, a file cut at its end or a
 * replaced one is named. The first file must begin the chain, or continue files that the chain
 * records as deleted by retention (`retention` entries a checkpoint signs: an unsigned one is
 * a warning, never proof), else the earlier files are missing.
 *
 * @example
 * ```ts
 * const report = verifyAuditFiles([
 *   { name: 'audit.log', text: await readFile('audit.log', 'utf8') },
 *   { name: 'audit.log.1', text: await readFile('audit.log.1', 'utf8') },
 * ]);
 * if (!report.ok) console.error(report.problems.join('\n'));
 * ```
 */
export function verifyAuditFiles(
  inputs: readonly AuditFileInput[],
  options: VerifyFilesOptions = {},
): AuditSetVerification {
  const problems: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const skewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const ends = inputs.map(endsOf);
  const ordered = [
    ...ends
      .filter((e) => e.firstSeq !== undefined)
      .sort((a, b) => (a.firstSeq as number) - (b.firstSeq as number)),
    ...ends.filter((e) => e.firstSeq === undefined),
  ];
  const chained = ordered.filter((e) => e.firstSeq !== undefined);
  const last = chained.at(-1);

  // Only the current (last) file must hold the server's latest checkpoint; the file starts
  // say where an earlier file ends.
  const { expectedCheckpoint, ...rest } = options;
  const reports = ordered.map((e) => verifyAuditLog(e.input.text, e === last ? options : rest));
  // A retention entry is proof of a deletion only once a checkpoint signs it: anyone who can
  // write the file can append a chained line to its unsigned end (no key needed), and a forged
  // record would excuse deleting any file.
  const deleted: RetentionRecord[] = [];
  ordered.forEach((e, i) => {
    const signedThrough = reports[i]?.lastCheckpointSeq ?? Number.NEGATIVE_INFINITY;
    for (const record of e.retention) {
      if (record.recordedAt.seq <= signedThrough) deleted.push(record);
      else
        warnings.push(
          `the retention entry at seq ${record.recordedAt.seq} of ${record.recordedAt.file} (deleting ${record.file}) is not signed by a checkpoint: not taken as proof of that deletion`,
        );
    }
  });
  deleted.sort((a, b) => a.lastSeq - b.lastSeq);

  const files = ordered.map((e, i): FileVerification => {
    const report = reports[i] as AuditVerification;
    const continued = e.lastSeq !== undefined && chained[chained.indexOf(e) + 1] !== undefined;
    return {
      ...report,
      name: e.input.name,
      warnings: report.warnings.filter((w) => !(continued && w.startsWith(NOT_CLOSED))),
      notes: report.notes.filter((n) => !n.startsWith(CONTINUES_EARLIER)),
    };
  });

  for (let i = 1; i < chained.length; i++) {
    const a = chained[i - 1] as Ends;
    const b = chained[i] as Ends;
    const aLast = a.lastSeq as number;
    const bFirst = b.firstSeq as number;
    const range = (e: Ends) => `${e.input.name} (seq ${e.firstSeq}..${e.lastSeq})`;
    if (bFirst <= aLast) {
      problems.push(
        bFirst === a.firstSeq
          ? `${range(a)} and ${range(b)} begin at the same entry: the same file given twice, or a copy of it`
          : `${range(b)} overlaps ${range(a)}: entries in two files (a file given twice, a copy, or a file not of this chain)`,
      );
      continue;
    }
    if (bFirst > aLast + 1) {
      const gone = deleted.find((d) => d.firstSeq === aLast + 1 && d.lastSeq === bFirst - 1);
      if (gone !== undefined) {
        notes.push(
          `entries ${aLast + 1}..${bFirst - 1} between ${a.input.name} and ${b.input.name} were in ${gone.file}, deleted by retention (recorded at seq ${gone.recordedAt.seq} of ${gone.recordedAt.file})`,
        );
        if (b.firstPrev !== gone.lastHash)
          problems.push(
            `${b.input.name} does not chain to the last line of ${gone.file} as its retention entry records it: one of them was changed`,
          );
      } else {
        problems.push(
          `entries ${aLast + 1}..${bFirst - 1} are missing between ${a.input.name} and ${b.input.name}: a file is missing from the set, or lines were cut from the end of ${a.input.name} or the start of ${b.input.name}`,
        );
      }
      continue;
    }
    if (b.firstPrev !== a.lastHash) {
      problems.push(
        `${b.input.name} does not chain to the last line of ${a.input.name} (seq ${aLast}): that line was edited, or one of the files was replaced`,
      );
    }
    if (b.firstMs < a.lastMs - skewMs) {
      problems.push(
        `${b.input.name} begins (seq ${bFirst}) dated before the end of ${a.input.name} by more than the allowed clock skew: the files were reordered or edited`,
      );
    }
  }

  const first = chained[0];
  if (first !== undefined && first.firstPrev !== GENESIS_HASH) {
    const start = first.firstSeq as number;
    const gone = deleted.find((d) => d.lastSeq === start - 1);
    if (gone !== undefined && gone.lastHash === first.firstPrev) {
      const earliest = deleted[0] as RetentionRecord;
      notes.push(
        `entries ${earliest.firstSeq}..${start - 1} are not in the set: deleted by retention (${deleted
          .filter((d) => d.lastSeq < start)
          .map((d) => `${d.file}, recorded at seq ${d.recordedAt.seq} of ${d.recordedAt.file}`)
          .join('; ')})`,
      );
      if (earliest.firstSeq !== 1)
        notes.push(
          `entries 1..${earliest.firstSeq - 1} were in files deleted before, whose retention entries were in files deleted since`,
        );
    } else if (gone !== undefined) {
      problems.push(
        `${first.input.name} does not chain to the last line of ${gone.file} as its retention entry records it (seq ${gone.lastSeq}): one of them was changed`,
      );
    } else {
      const message = `the set begins at seq ${start} (${first.input.name}), continuing entries 1..${start - 1} that no file given holds and no retention entry records as deleted: a file is missing from the set`;
      if (options.allowEarlierFiles) warnings.push(message);
      else
        problems.push(
          `${message} (give every file, or allow earlier files to verify only from here)`,
        );
    }
  }

  const ok = problems.length === 0 && files.every((f) => f.ok);
  return {
    ok,
    problems,
    warnings,
    notes,
    files,
    firstSeq: first?.firstSeq,
    lastSeq: last?.lastSeq,
    deleted,
  };
}

function endsOf(input: AuditFileInput): Ends {
  const lines = input.text.split('\n').filter((l) => l.length > 0);
  // A torn last line (no newline) is not an entry: the file ends at the line before it.
  if (input.text.length > 0 && !input.text.endsWith('\n')) lines.pop();
  const entries = lines.map((line) => ({ line, entry: parseChainLine(line) }));
  const firstAt = entries.find((e) => e.entry !== undefined);
  const lastAt = entries.findLast((e) => e.entry !== undefined);
  const retention: RetentionRecord[] = [];
  for (const { entry } of entries) {
    const record = retentionOf(entry, input.name);
    if (record !== undefined) retention.push(record);
  }
  return {
    input,
    firstSeq: firstAt?.entry?.seq,
    firstPrev: firstAt?.entry?.prev,
    firstMs: Date.parse(String(firstAt?.entry?.time)),
    lastSeq: lastAt?.entry?.seq,
    lastHash: lastAt === undefined ? undefined : lineHash(lastAt.line),
    lastMs: Date.parse(String(lastAt?.entry?.time)),
    retention,
  };
}

function retentionOf(entry: ChainLine | undefined, file: string): RetentionRecord | undefined {
  if (entry?.type !== 'retention' || typeof entry.deleted !== 'object' || entry.deleted === null)
    return undefined;
  const d = entry.deleted as Record<string, unknown>;
  if (
    typeof d.file !== 'string' ||
    typeof d.first_seq !== 'number' ||
    typeof d.last_seq !== 'number' ||
    typeof d.last_hash !== 'string'
  )
    return undefined;
  return {
    file: d.file,
    firstSeq: d.first_seq,
    lastSeq: d.last_seq,
    lastHash: d.last_hash,
    recordedAt: { file, seq: entry.seq, time: String(entry.time) },
  };
}
