import { describe, expect, it } from 'vitest';
import { memoryHistory } from '../../test/audit.js';
import {
  ChainBroken,
  type ChainState,
  checkContinuity,
  type FileStart,
} from './audit-continuity.js';
import { GENESIS_HASH, lineHash } from './audit-line.js';
import type { SinkHistory } from './sinks.js';

// checkContinuity's rules one by one, on files written out here line by line: each case is the
// smallest file where one rule alone decides between continuing and refusing.

interface LineSpec {
  readonly type?: string;
  readonly startsFile?: boolean;
}

/** Lines `from`, `from + 1`, … chained from `prev`; the first is an open entry unless told. */
function chain(from: number, prev: string, specs: readonly LineSpec[]): string[] {
  const lines: string[] = [];
  let previous = prev;
  specs.forEach((spec, i) => {
    const seq = from + i;
    const line = JSON.stringify({
      seq,
      prev: previous,
      type: spec.type ?? (i === 0 ? 'open' : 'request'),
      time: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
      ...(spec.startsFile === undefined ? {} : { starts_file: spec.startsFile }),
    });
    lines.push(line);
    previous = lineHash(line);
  });
  return lines;
}

const point = (lines: readonly string[], seq: number, from = 1) => ({
  seq,
  hash: lineHash(lines[seq - from] as string),
});

const startOf = (lines: readonly string[], from: number): FileStart => ({
  ...point(lines, from, from),
  time: '2026-01-01T00:00:00.000Z',
  previous: null,
  cause: 'start',
});

const refusal = async (lines: readonly string[], state: ChainState) => {
  const failure = await checkContinuity('file', memoryHistory(lines), state).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failure).toBeInstanceOf(ChainBroken);
  expect((failure as ChainBroken).name).toBe('ChainBroken');
  expect((failure as ChainBroken).code).toBe('ERR_AUDIT_CHAIN_BROKEN');
  return (failure as ChainBroken).message;
};

describe('audit chain continuity, rule by rule', () => {
  it('refuses an empty file when only file starts were recorded, naming lines', async () => {
    const lines = chain(1, GENESIS_HASH, [{ startsFile: true }, {}]);
    const state: ChainState = { files: [startOf(lines, 1)] };
    expect(await refusal([], state)).toBe(
      'audit sink file refused: the file is empty, but the server recorded lines in it: it was emptied, removed or moved while the server was sealed or stopped',
    );
    await expect(checkContinuity('file', memoryHistory([]), { files: [] })).resolves.toEqual({
      last: undefined,
      start: undefined,
    });
  });

  it('continues from the last line, stepping over a damaged line after the checkpoint', async () => {
    const lines = chain(1, GENESIS_HASH, [{ startsFile: true }, {}, {}, {}, {}]);
    const damaged = [...lines.slice(0, 4), 'a line the verifier will report', lines[4] as string];
    const state: ChainState = { checkpoint: point(lines, 2), files: [startOf(lines, 1)] };
    const { last } = await checkContinuity('file', memoryHistory(damaged), state);
    expect(last).toBe(lines[4]);
  });

  it('tells a file cut at its end from a file missing the checkpoint line in its middle', async () => {
    const lines = chain(1, GENESIS_HASH, [{ startsFile: true }, {}, {}, {}, {}, {}]);
    const state: ChainState = { checkpoint: point(lines, 5), files: [startOf(lines, 1)] };
    expect(await refusal(lines.slice(0, 3), state)).toBe(
      'audit sink file refused: the file ends at seq 3, before the checkpoint at seq 5 the server recorded: entries were cut from its end, or it was replaced by an older copy',
    );
    const withoutIt = [...lines.slice(0, 4), lines[5] as string];
    expect(await refusal(withoutIt, state)).toBe(
      'audit sink file refused: the file has no line at seq 5, where the server recorded its latest checkpoint (it goes from seq 4 to later ones): entries were removed, or it was replaced',
    );
  });

  it('takes a file of only a torn line as empty when nothing was recorded, refuses it otherwise', async () => {
    const torn: SinkHistory = { ...memoryHistory([]), size: 40 };
    await expect(checkContinuity('file', torn, { files: [] })).resolves.toEqual({
      last: undefined,
      start: undefined,
    });
    const lines = chain(1, GENESIS_HASH, [{ startsFile: true }]);
    await expect(
      checkContinuity('file', torn, { files: [startOf(lines, 1)] }),
    ).rejects.toMatchObject({
      message:
        'audit sink file refused: the file holds no complete line, but the server recorded lines in it',
    });
  });

  describe('where the file begins (a checkpoint recorded in it)', () => {
    /** A file of lines 11-14 after line 10 of another file, its checkpoint at 12. */
    const later = (first: LineSpec) => {
      const lines = chain(11, lineHash('the last line of the file before'), [first, {}, {}, {}]);
      return { lines, checkpoint: point(lines, 12, 11) };
    };
    const elsewhere: FileStart = {
      seq: 1,
      hash: lineHash('another file'),
      time: '2026-01-01T00:00:00.000Z',
      previous: null,
      cause: 'start',
    };
    const restart = (seq: number) =>
      `audit sink file refused: its first line (seq ${seq}) is a restart inside a file, not the start of one: the lines before it were cut`;

    it('continues a file whose first line is marked as a file start, recorded or not', async () => {
      const { lines, checkpoint } = later({ startsFile: true });
      const { start } = await checkContinuity('file', memoryHistory(lines), {
        checkpoint,
        files: [elsewhere],
      });
      expect(start).toEqual({
        seq: 11,
        hash: lineHash(lines[0] as string),
        time: '2026-01-01T00:00:11.000Z',
        previous: { seq: 10, hash: lineHash('the last line of the file before') },
        cause: 'start',
      });
    });

    it('continues a file whose unmarked first line is a recorded start: same seq and same hash', async () => {
      const { lines, checkpoint } = later({ startsFile: false });
      const recorded = startOf(lines, 11);
      const state = (files: FileStart[]) => ({ checkpoint, files });
      await expect(
        checkContinuity('file', memoryHistory(lines), state([elsewhere, recorded])),
      ).resolves.toMatchObject({ last: lines[3] });
      expect(await refusal(lines, state([elsewhere, { ...recorded, hash: elsewhere.hash }]))).toBe(
        restart(11),
      );
      expect(await refusal(lines, state([elsewhere, { ...recorded, seq: 12 }]))).toBe(restart(11));
    });

    it('refuses an unmarked first line once starts are recorded; takes it before any was', async () => {
      const { lines, checkpoint } = later({});
      expect(await refusal(lines, { checkpoint, files: [elsewhere] })).toBe(restart(11));
      await expect(
        checkContinuity('file', memoryHistory(lines), { checkpoint, files: [] }),
      ).resolves.toMatchObject({ last: lines[3] });
      // Marked as not starting a file: refused even before any start was recorded.
      const marked = later({ startsFile: false });
      expect(await refusal(marked.lines, { checkpoint: marked.checkpoint, files: [] })).toBe(
        restart(11),
      );
    });

    it('continues the genesis file whatever its first line says, with no previous file', async () => {
      const lines = chain(1, GENESIS_HASH, [{}, {}, {}]);
      const { start } = await checkContinuity('file', memoryHistory(lines), {
        checkpoint: point(lines, 2),
        files: [elsewhere],
      });
      expect(start).toMatchObject({ seq: 1, previous: null });
    });
  });
});
