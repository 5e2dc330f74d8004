import { ServerError } from '../errors.js';
import { GENESIS_HASH, lineHash } from './audit-line.js';
import type { SinkHistory } from './sinks.js';

/** A line of the chain, by its sequence number and the SHA-256 of its exact bytes. */
export interface ChainPoint {
  readonly seq: number;
  readonly hash: string;
}

/** Where a file of a sink's chain starts: its first line, which chains to the previous file's end. */
export interface FileStart extends ChainPoint {
  readonly time: string;
  /** The checkpoint the first line chains to (the end of the file before), null at genesis. */
  readonly previous: ChainPoint | null;
  /** `start`: the server began an empty file; `new-file`: an operator started it after a refusal. */
  readonly cause: 'start' | 'new-file';
}

/** What the server recorded of a sink's chain, behind the barrier. */
export interface ChainState {
  /** The latest checkpoint written. */
  readonly checkpoint?: ChainPoint | undefined;
  /** Where the sink's files start, oldest first (the last one is the current file). */
  readonly files: readonly FileStart[];
}

/** What a sink holds, once it passed {@link checkContinuity}. */
export interface Continuation {
  /** The last complete line, to continue the chain from (none: a new chain). */
  readonly last: string | undefined;
  /** The file's first line when it is a file start (the server records it if it has not). */
  readonly start: FileStart | undefined;
}

/**
 * Thrown when a sink does not continue its recorded chain: the server refuses to write to it.
 *
 * @example
 * ```ts
 * throw new ChainBroken('file', 'the file is empty, but the server recorded its checkpoint at seq 9 in it');
 * ```
 */
export class ChainBroken extends ServerError {
  constructor(
    readonly sink: string,
    readonly reason: string,
  ) {
    super('ERR_AUDIT_CHAIN_BROKEN', `audit sink ${sink} refused: ${reason}`);
    this.name = 'ChainBroken';
  }
}

/** The chain fields of one audit line (what continuity, rotation and retention read). */
export interface ChainLine {
  readonly seq: number;
  readonly prev: string;
  readonly type: unknown;
  readonly time: unknown;
  readonly startsFile: unknown;
  readonly deleted: unknown;
}

/**
 * Reads the chain fields of an audit line; undefined for a line that is not a chain entry.
 *
 * @example
 * ```ts
 * parseChainLine('{"seq":3,"prev":"ab…","type":"request"}')?.seq; // 3
 * ```
 */
export function parseChainLine(line: string): ChainLine | undefined {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (typeof entry.seq !== 'number' || typeof entry.prev !== 'string') return undefined;
    return {
      seq: entry.seq,
      prev: entry.prev,
      type: entry.type,
      time: entry.time,
      startsFile: entry.starts_file,
      deleted: entry.deleted,
    };
  } catch {
    return undefined;
  }
}

/**
 * Checks, before a server writes to a sink again (unseal, restart), that what the sink holds is
 * the chain the server left: the latest checkpoint it recorded is in the file (or the file's
 * first line chains to it: a file started right after it), and the file begins where a file
 * begins (an `open` entry that starts it). Otherwise the file was emptied, cut, replaced or
 * removed while nobody was writing, and continuing it would hide that: {@link ChainBroken},
 * with the reason. A sink the server has no record of is taken as it is.
 *
 * @example
 * ```ts
 * const { last } = await checkContinuity('file', await sink.history(), state);
 * ```
 */
export async function checkContinuity(
  sink: string,
  history: SinkHistory,
  state: ChainState,
): Promise<Continuation> {
  const refuse = (reason: string): never => {
    throw new ChainBroken(sink, reason);
  };
  const expected = state.checkpoint;
  const recorded = expected !== undefined || state.files.length > 0;
  const what = expected === undefined ? 'lines' : `its checkpoint at seq ${expected.seq}`;
  if (history.kind === 'special') {
    if (recorded)
      refuse(
        `the file is no longer a regular file (a device or pipe), but the server recorded ${what} in it`,
      );
    return { last: undefined, start: undefined };
  }
  if (history.kind === 'absent' || history.size === 0) {
    if (recorded)
      refuse(
        `the file is ${history.kind === 'absent' ? 'missing' : 'empty'}, but the server recorded ${what} in it: it was emptied, removed or moved while the server was sealed or stopped`,
      );
    return { last: undefined, start: undefined };
  }

  // From the end back to the recorded checkpoint: the file must hold it, byte for byte.
  let last: string | undefined;
  let earliest: ChainLine | undefined;
  let found = false;
  for await (const line of history.backward()) {
    const entry = parseChainLine(line);
    const isLast = last === undefined;
    if (isLast) {
      last = line;
      if (entry === undefined)
        refuse('its last line is not a custos audit entry: the file was edited or replaced');
    }
    if (expected === undefined) break;
    if (entry === undefined) continue; // a damaged line in between: the verifier reports it
    earliest = entry;
    if (entry.seq > expected.seq) continue;
    if (entry.seq === expected.seq && lineHash(line) !== expected.hash)
      refuse(
        `the line at seq ${expected.seq} is not the checkpoint the server recorded there: the file was replaced or edited`,
      );
    if (entry.seq < expected.seq)
      refuse(
        isLast
          ? `the file ends at seq ${entry.seq}, before the checkpoint at seq ${expected.seq} the server recorded: entries were cut from its end, or it was replaced by an older copy`
          : `the file has no line at seq ${expected.seq}, where the server recorded its latest checkpoint (it goes from seq ${entry.seq} to later ones): entries were removed, or it was replaced`,
      );
    found = true;
    break;
  }
  if (last === undefined) {
    if (recorded) refuse(`the file holds no complete line, but the server recorded ${what} in it`);
    return { last: undefined, start: undefined };
  }
  if (expected !== undefined && !found) {
    // Every line is later than the checkpoint: the file must start right after it.
    const chained =
      earliest !== undefined &&
      earliest.seq === expected.seq + 1 &&
      earliest.prev === expected.hash;
    if (!chained)
      refuse(
        `the file starts at seq ${earliest?.seq ?? '?'}, after the server's latest checkpoint (seq ${expected.seq}), without chaining to it: lines were cut from its start, or it was replaced`,
      );
  }
  if (!recorded) return { last, start: undefined };

  // From the start: a file begins with the open entry that started it.
  const firstLine = await history.first();
  const first = firstLine === undefined ? undefined : parseChainLine(firstLine);
  if (first === undefined || firstLine === undefined || first.type !== 'open')
    return refuse(
      'the file does not begin with an open entry, as every file the server starts does: lines were cut from its start, or it was emptied while the server wrote to it',
    );
  const hash = lineHash(firstLine);
  const known = state.files.some((f) => f.seq === first.seq && f.hash === hash);
  const genesis = first.prev === GENESIS_HASH;
  // An open entry from before custos marked file starts is taken while nothing contradicts it.
  const legacy = first.startsFile === undefined && state.files.length === 0;
  if (!genesis && first.startsFile !== true && !known && !legacy)
    refuse(
      `its first line (seq ${first.seq}) is a restart inside a file, not the start of one: the lines before it were cut`,
    );
  return {
    last,
    start: {
      seq: first.seq,
      hash,
      time: String(first.time),
      previous: genesis ? null : { seq: first.seq - 1, hash: first.prev },
      cause: 'start',
    },
  };
}
