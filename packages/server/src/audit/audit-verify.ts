import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import {
  checkpointMessage,
  DEFAULT_CHECKPOINT_EVERY,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  GENESIS_HASH,
  lineHash,
} from './audit-chain.js';
import type { ChainPoint, FileStart } from './audit-continuity.js';

export type { ChainPoint, FileStart } from './audit-continuity.js';

/**
 * How much later than due a checkpoint may appear before an unsigned end of the file counts as
 * cut (or left by a crash): the checkpoint timer can run late on a loaded server, and the
 * verifying machine's clock may differ a little from the server's.
 */
export const LATE_CHECKPOINT_GRACE_MS = 30_000;

/**
 * How far an entry's time may lie ahead of the verification time, or behind the entry before
 * it, unless configured otherwise: clocks of the server and the verifying machine differ a
 * little, and a server's clock may be stepped back a little (NTP). Beyond it, the time is a
 * problem: an entry dated in the future would otherwise pass as "not signed yet" forever.
 */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/** The result of verifying one audit file. */
export interface AuditVerification {
  /** True when no problem was found. */
  readonly ok: boolean;
  /** Every problem, with the line number (1-based) where it shows. Any problem means exit 1. */
  readonly problems: string[];
  /** What this verification could not rule out, though nothing is proven wrong. */
  readonly warnings: string[];
  /** Facts that are neither (a chain continuing an earlier file, how signatures were checked). */
  readonly notes: string[];
  readonly entries: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /** Sequence number of the last valid checkpoint: every entry up to it is signed. */
  readonly lastCheckpointSeq: number | undefined;
  /** The entries after the last valid checkpoint, which no signature covers yet. */
  readonly unsigned: { readonly from: number; readonly to: number } | undefined;
  /** True when the file ends with a `close` entry and its checkpoint: the server closed it there. */
  readonly closed: boolean;
  /**
   * True when, by the server's records, the file is an earlier one of its sink that ends at the
   * checkpoint the next file chains to: moved aside there (rotated), complete.
   */
  readonly movedAside: boolean;
}

/** Options for {@link verifyAuditLog}. */
export interface VerifyOptions {
  /**
   * The server's checkpoint public key (SPKI PEM or DER base64). Without it, the keys announced
   * in the file's `open` entries are used, which proves integrity against editing but not
   * against someone who rewrites the whole file with a key of their own.
   */
  readonly publicKey?: string;
  /**
   * The latest checkpoint the server recorded for this sink: the current file must contain it,
   * which catches a file cut short after a checkpoint.
   */
  readonly expectedCheckpoint?: ChainPoint;
  /**
   * Where the server recorded this sink's files to start, oldest first (`GET
   * sys/audit/checkpoints`): the file must begin at one of them (else lines were cut from its
   * start, or it was replaced), and an earlier file must hold the checkpoint that the next file
   * chains to (its end) instead of the latest one.
   */
  readonly fileStarts?: readonly Pick<FileStart, 'seq' | 'hash' | 'previous'>[];
  /** The time to judge an unsigned end of the file and entry times against (default: now). */
  readonly now?: Date;
  /**
   * How far an entry's time may be later than `now`, or earlier than the entry before it
   * (default {@link DEFAULT_CLOCK_SKEW_MS}, 5 minutes).
   */
  readonly clockSkewMs?: number;
}

/** Entries since the last checkpoint line (or since the server's last `open`). */
interface UnsignedRun {
  count: number;
  startSeq: number;
  startMs: number;
  /** A missing checkpoint in this run was already reported: report it once. */
  reported: boolean;
}

/**
 * Verifies an audit log: consecutive sequence numbers, every `prev` equal to the hash of the
 * line before, every checkpoint signature valid, the file not cut mid-line, and the checkpoint
 * cadence the writer keeps exactly (announced in each `open` entry): a checkpoint after every N
 * entries, within T of the first unsigned entry, and right after `close`. So a file cut at a
 * line boundary is caught offline when the cut removes a checkpoint that was due, when it leaves
 * unsigned entries older than T (plus {@link LATE_CHECKPOINT_GRACE_MS}), or when nothing is left.
 * A cut just after a checkpoint, or within the young unsigned end of a live log, cannot be seen
 * in the file alone: `expectedCheckpoint` (the server's latest) catches the first.
 *
 * @example
 * ```ts
 * const report = verifyAuditLog(await readFile('audit.log', 'utf8'), { publicKey: pem });
 * if (!report.ok) console.error(report.problems.join('\n'));
 * ```
 */
export function verifyAuditLog(text: string, options: VerifyOptions = {}): AuditVerification {
  const problems: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const trusted = options.publicKey === undefined ? undefined : parsePublicKey(options.publicKey);
  const announced = new Map<string, KeyObject>();
  const lines = text
    .split('\n')
    .map((t, i) => ({ number: i + 1, text: t }))
    .filter((l) => l.text.length > 0);
  if (text.length > 0 && !text.endsWith('\n')) {
    problems.push(`line ${lines.at(-1)?.number}: incomplete line (the file was cut mid-entry)`);
  }

  let every = DEFAULT_CHECKPOINT_EVERY;
  let intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS;
  let cadenceAnnounced = false;
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  let lastCheckpointSeq: number | undefined;
  let prevHash: string | undefined;
  let previousType: unknown;
  let closedAt: number | undefined;
  let run: UnsignedRun | undefined;
  let firstHash: string | undefined;
  /** `seq:hash` of every validly signed checkpoint line, to find the server's records in. */
  const checkpointLines = new Set<string>();
  const nowMs = (options.now ?? new Date()).getTime();
  const skewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  let previousTimeMs: number | undefined;

  for (const { number, text: line } of lines) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push(`line ${number}: not valid JSON (edited or damaged)`);
      prevHash = lineHash(line);
      continue;
    }
    const seq = entry.seq;
    if (typeof seq !== 'number' || typeof entry.prev !== 'string') {
      problems.push(`line ${number}: missing seq or prev (not a custos audit entry, or edited)`);
      prevHash = lineHash(line);
      continue;
    }
    if (lastSeq === undefined) {
      firstSeq = seq;
      firstHash = lineHash(line);
      const start = checkFileStart(entry, seq);
      if (start.problem !== undefined) problems.push(`line ${number}: ${start.problem}`);
      if (start.warning !== undefined) warnings.push(`line ${number}: ${start.warning}`);
      if (entry.prev !== GENESIS_HASH) {
        notes.push(
          `the chain starts at seq ${seq}, continuing an earlier file; its first link is not checkable here`,
        );
      }
    } else {
      if (seq > lastSeq + 1) {
        problems.push(`line ${number}: entries ${lastSeq + 1}..${seq - 1} are missing (removed)`);
      } else if (seq <= lastSeq) {
        problems.push(`line ${number}: seq ${seq} after ${lastSeq} (reordered or duplicated)`);
      }
      if (entry.prev !== prevHash) {
        problems.push(
          `line ${number}: does not chain to the line before it (an entry before it was edited, removed or inserted)`,
        );
      }
    }
    if (closedAt !== undefined && closedAt === lastSeq && entry.type !== 'open') {
      problems.push(
        `line ${number}: an entry after the signed close at seq ${closedAt} that is not an open entry (the server writes nothing after closing a log until it opens it again): appended`,
      );
    }
    if (previousType === 'close' && entry.type !== 'checkpoint') {
      problems.push(
        `line ${number}: the close entry before it has no checkpoint after it (the writer always signs a close at once)`,
      );
    }
    const timeMs = typeof entry.time === 'string' ? Date.parse(entry.time) : Number.NaN;
    const timeProblem = checkTime(entry.time, timeMs, previousTimeMs, nowMs, skewMs);
    if (timeProblem !== undefined) problems.push(`line ${number}: ${timeProblem}`);
    if (Number.isFinite(timeMs)) previousTimeMs = timeMs;

    if (entry.type === 'checkpoint') {
      const key = trusted ?? announced.get(String(entry.key_id));
      const message = checkpointMessage(
        String(entry.sink),
        seq,
        String(entry.prev),
        String(entry.time),
      );
      if (key === undefined) {
        problems.push(`line ${number}: checkpoint signed by unknown key ${String(entry.key_id)}`);
      } else if (!verifySignature(message, key, entry.signature)) {
        problems.push(
          `line ${number}: checkpoint signature is invalid (the checkpoint or the chain before it was changed)`,
        );
      } else {
        lastCheckpointSeq = seq;
        if (previousType === 'close') closedAt = seq;
        checkpointLines.add(`${seq}:${lineHash(line)}`);
      }
      run = undefined;
    } else if (entry.type === 'open') {
      // A server (re)started writing here: its cadence applies from this entry on.
      if (run !== undefined) {
        warnings.push(
          `line ${number}: the server restarted at seq ${seq} after entries ${run.startSeq}..${seq - 1}, which the server that wrote them never signed (it stopped without closing the log); a later checkpoint covers them, but entries cut from their end before the restart would not show`,
        );
      }
      const announcedEvery = entry.checkpoint_every;
      const announcedInterval = entry.checkpoint_interval_ms;
      if (isPositiveInteger(announcedEvery) && isPositiveInteger(announcedInterval)) {
        every = announcedEvery;
        intervalMs = announcedInterval;
        cadenceAnnounced = true;
      }
      run = { count: 1, startSeq: seq, startMs: timeMs, reported: false };
    } else if (run === undefined) {
      run = { count: 1, startSeq: seq, startMs: timeMs, reported: false };
    } else {
      const late = checkpointMissing(run, timeMs, every, intervalMs);
      if (late !== undefined && !run.reported) {
        problems.push(`line ${number}: ${late}, and there is none before seq ${seq}`);
        run.reported = true;
      }
      run.count += 1;
    }
    if (
      entry.type === 'open' &&
      typeof entry.key_id === 'string' &&
      typeof entry.public_key === 'string'
    ) {
      // An edited key is reported here (and its line by the chain); never blamed on the key given.
      const key = announcedKey(entry.public_key);
      if (key !== undefined) announced.set(entry.key_id, key);
      else problems.push(`line ${number}: the public key it announces cannot be read`);
    }
    previousType = entry.type;
    lastSeq = seq;
    prevHash = lineHash(line);
  }

  const closed = closedAt !== undefined && closedAt === lastSeq;
  const server = serverExpectations(options, firstSeq, firstHash);
  const unsigned =
    lastSeq !== undefined && lastSeq !== lastCheckpointSeq
      ? {
          from: lastCheckpointSeq === undefined ? (firstSeq as number) : lastCheckpointSeq + 1,
          to: lastSeq,
        }
      : undefined;

  if (lines.length === 0) {
    problems.push(
      'the file is empty: a custos audit log starts with an open entry, so nothing here can be verified (emptied, or not an audit log)',
    );
  } else if (lastSeq === undefined) {
    problems.push('no line is a custos audit entry');
  }
  let movedAside = false;
  // The checkpoint the server's records say this file must hold, when the file holds it.
  const heldEnd =
    server.end !== undefined && checkpointLines.has(`${server.end.seq}:${server.end.hash}`)
      ? server.end
      : undefined;
  if (previousType === 'close') {
    problems.push(
      `the file ends with a close entry (seq ${lastSeq}) without the checkpoint that always follows it: its end was cut`,
    );
  } else if (run !== undefined && lastSeq !== undefined) {
    const due = checkpointMissing(run, nowMs, every, intervalMs, LATE_CHECKPOINT_GRACE_MS);
    if (due !== undefined && !run.reported) {
      problems.push(
        `${due}, and the file ends unsigned at seq ${lastSeq}: the file was cut, or the server stopped without closing the log (a crash)`,
      );
    } else if (!run.reported) {
      warnings.push(
        `entries ${run.startSeq}..${lastSeq} are chained but not signed yet (the writer signs within ${intervalMs / 1000} s or ${every} entries): their content is not authenticated until then, and entries cut from the end would not show`,
      );
    }
  } else if (!closed && lastCheckpointSeq !== undefined && lastCheckpointSeq === lastSeq) {
    if (heldEnd === undefined)
      warnings.push(
        `the log was not closed: it ends at the checkpoint at seq ${lastSeq}. The server may still be writing it, or entries after that checkpoint were cut; the file alone cannot tell (verify with --server)`,
      );
    else if (server.endsCurrentFile)
      warnings.push(
        `the log was not closed; it ends at the server's latest checkpoint (seq ${lastSeq})`,
      );
    // A file the sink moved aside ends at the checkpoint the next file chains to: complete.
    else if (heldEnd.seq === lastSeq) movedAside = true;
  }
  if (
    heldEnd !== undefined &&
    !server.endsCurrentFile &&
    lastSeq !== undefined &&
    lastSeq > heldEnd.seq
  )
    // However it ends: the next file continues the chain from that checkpoint, not from here.
    problems.push(
      `the file goes on after ${server.endLabel}, to seq ${lastSeq}: entries were added to it after the sink moved on to the next file`,
    );
  problems.push(...server.problems);
  notes.push(...server.notes);
  if (movedAside)
    notes.push(
      `it ends at the checkpoint the next file chains to (seq ${lastSeq}): nothing is missing from its end`,
    );
  if (server.end !== undefined && heldEnd === undefined) {
    problems.push(`${server.endLabel} is not in the file: ${server.endMeaning}`);
  }
  if (trusted === undefined && announced.size > 0) {
    notes.push(
      'signatures were checked against the keys announced in the file; pass the server public key to rule out a rewritten file',
    );
  }
  if (lines.length > 0 && !cadenceAnnounced) {
    notes.push(
      `no open entry announces the checkpoint cadence; the defaults were assumed (${DEFAULT_CHECKPOINT_EVERY} entries, ${DEFAULT_CHECKPOINT_INTERVAL_MS / 1000} s)`,
    );
  }
  return {
    ok: problems.length === 0,
    problems,
    warnings,
    notes,
    entries: lines.length,
    firstSeq,
    lastSeq,
    lastCheckpointSeq,
    unsigned,
    closed,
    movedAside,
  };
}

/**
 * Whether the first entry of a file is where a file begins: an `open` entry, either the
 * chain's genesis or marked `starts_file` by the writer (signed by the next checkpoint, so it
 * cannot be added to a restart's `open` entry after a cut).
 */
function checkFileStart(
  entry: Record<string, unknown>,
  seq: number,
): { problem?: string; warning?: string } {
  if (entry.type !== 'open') {
    return {
      problem: `the file begins with a ${String(entry.type)} entry (seq ${seq}), not with the open entry every file the server writes begins with: lines before it were cut, or the file was emptied while the server wrote to it`,
    };
  }
  if (entry.prev === GENESIS_HASH || entry.starts_file === true) return {};
  if (entry.starts_file === false) {
    return {
      problem: `the file begins with the open entry of a restart inside a file (seq ${seq}), not of a new file: the lines before it were cut`,
    };
  }
  return {
    warning: `the file begins with an open entry (seq ${seq}) that does not say whether it started the file (an older writer): lines cut before a restart would not show`,
  };
}

/** What the server's records say this file must hold, and what they show wrong already. */
interface ServerExpectations {
  /** The checkpoint the file must hold (its end, or the latest if it is the current file). */
  readonly end: ChainPoint | undefined;
  readonly endLabel: string;
  readonly endMeaning: string;
  /** Whether `end` is the server's latest checkpoint (the file may still be written after it). */
  readonly endsCurrentFile: boolean;
  readonly problems: string[];
  readonly notes: string[];
}

function serverExpectations(
  options: VerifyOptions,
  firstSeq: number | undefined,
  firstHash: string | undefined,
): ServerExpectations {
  const latest: ServerExpectations = {
    end: options.expectedCheckpoint,
    endLabel: `the server's latest checkpoint (seq ${options.expectedCheckpoint?.seq})`,
    endMeaning: 'entries were cut from its end, or the file was replaced',
    endsCurrentFile: true,
    problems: [],
    notes: [],
  };
  const starts = options.fileStarts;
  const oldest = starts?.[0];
  if (starts === undefined || oldest === undefined || firstSeq === undefined) return latest;
  const index = starts.findIndex((f) => f.seq === firstSeq && f.hash === firstHash);
  if (index === -1) {
    if (firstSeq < oldest.seq) {
      return {
        ...latest,
        end: undefined,
        notes: [
          `the file begins at seq ${firstSeq}, before the oldest file start the server still records (seq ${oldest.seq}): its start and end cannot be checked against the server`,
        ],
      };
    }
    return {
      ...latest,
      problems: [
        `the file begins at seq ${firstSeq}, where the server recorded no file start for this sink (its files start at seq ${starts.map((f) => f.seq).join(', ')}): lines were cut from its start, or the file was replaced`,
      ],
    };
  }
  const next = starts[index + 1];
  const start = starts[index];
  const latestPoint = options.expectedCheckpoint;
  if (
    next === undefined &&
    latestPoint !== undefined &&
    start?.previous?.seq === latestPoint.seq &&
    start.previous.hash === latestPoint.hash
  )
    // The current file, started (rotated) right after the latest checkpoint and not signed
    // since: that checkpoint is the previous file's end, which this file's first line chains to
    // (checked against the recorded start: its seq and hash).
    return {
      ...latest,
      end: undefined,
      notes: [
        `the server's latest checkpoint (seq ${latestPoint.seq}) ends the previous file: this file starts right after it, at a recorded file start`,
      ],
    };
  if (next === undefined) return latest;
  return {
    end: next.previous ?? undefined,
    endLabel: `the checkpoint (seq ${next.previous?.seq}) the server recorded as this file's end when the next file started (seq ${next.seq})`,
    endMeaning: 'entries were cut from its end, or the file was replaced',
    endsCurrentFile: false,
    problems: [],
    notes: [`an earlier file of this sink: the next one starts at seq ${next.seq}`],
  };
}

/**
 * Why an entry's time is wrong: not a timestamp, later than the verification time, or earlier
 * than the entry before it, each beyond the clock skew; or undefined.
 */
function checkTime(
  raw: unknown,
  timeMs: number,
  previousMs: number | undefined,
  nowMs: number,
  skewMs: number,
): string | undefined {
  const skew = `the allowed clock skew (${skewMs / 1000} s)`;
  if (!Number.isFinite(timeMs)) {
    return `time ${JSON.stringify(raw)} is not a timestamp (edited, or not written by custos)`;
  }
  if (timeMs > nowMs + skewMs) {
    return `time ${String(raw)} is later than the verification time ${new Date(nowMs).toISOString()} by more than ${skew}: appended or edited, or the server's clock is wrong`;
  }
  if (previousMs !== undefined && timeMs < previousMs - skewMs) {
    return `time ${String(raw)} is earlier than the entry before it (${new Date(previousMs).toISOString()}) by more than ${skew}: appended or edited, or the server's clock was set back`;
  }
  return undefined;
}

/**
 * Why a checkpoint is overdue in `run` at `atMs` by the writer's rules (after `every` entries,
 * `intervalMs` after the first), or undefined. `graceMs` tolerates a late timer (end of file).
 */
function checkpointMissing(
  run: UnsignedRun,
  atMs: number,
  every: number,
  intervalMs: number,
  graceMs = 0,
): string | undefined {
  if (run.count >= every) {
    return `a checkpoint was due after ${every} unsigned entries (seq ${run.startSeq}..${run.startSeq + every - 1})`;
  }
  if (Number.isFinite(run.startMs) && atMs - run.startMs >= intervalMs + graceMs) {
    return `a checkpoint was due by ${new Date(run.startMs + intervalMs).toISOString()} (${intervalMs / 1000} s after seq ${run.startSeq})`;
  }
  return undefined;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/**
 * The trusted key the caller gave. An unreadable one is refused: falling back to the keys the
 * file announces would let a file rewritten with a forger's own key pass as intact.
 */
function parsePublicKey(text: string): KeyObject {
  try {
    return text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'the audit public key given cannot be read: expected an SPKI public key, PEM or DER in base64',
    );
  }
}

/** A key an open entry announces, or undefined when it cannot be read. */
function announcedKey(text: string): KeyObject | undefined {
  try {
    return parsePublicKey(text);
  } catch {
    return undefined;
  }
}

function verifySignature(message: Buffer, key: KeyObject, signature: unknown): boolean {
  if (typeof signature !== 'string') return false;
  try {
    return verify(null, message, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
