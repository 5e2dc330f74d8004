import { describe, expect, it } from 'vitest';
import { fileText, memorySink, signer } from '../../test/audit.js';
import { ChainedSink, type CheckpointRecord } from './audit-chain.js';
import type { ChainState, FileStart } from './audit-continuity.js';
import { verifyAuditLog } from './audit-verify.js';
import type { AuditSink, SinkHistory } from './sinks.js';

const START = Date.parse('2026-01-01T00:00:00.000Z');

/** What the server keeps behind the barrier, as the broker records it. */
function recorder() {
  const state: { checkpoint?: CheckpointRecord; files: FileStart[] } = { files: [] };
  return {
    state: (): ChainState => ({ checkpoint: state.checkpoint, files: [...state.files] }),
    options: {
      onCheckpoint: (c: CheckpointRecord) => {
        state.checkpoint = c;
      },
      onFileStart: (f: FileStart) => {
        if (!state.files.some((x) => x.seq === f.seq && x.hash === f.hash)) state.files.push(f);
      },
    },
  };
}

/**
 * A server session on `lines`: open, `requests` requests, close (a checkpoint every 3 entries).
 * Lines of a first session of 5 requests: 1 open, 2-3 requests, 4 checkpoint, 5-7 requests,
 * 8 checkpoint, 9 close, 10 checkpoint.
 */
async function session(
  lines: string[],
  rec: ReturnType<typeof recorder>,
  key: ReturnType<typeof signer>,
  requests = 5,
) {
  let t = START + lines.length * 10;
  const chain = new ChainedSink(memorySink(lines), {
    signer: key,
    checkpointEvery: 3,
    now: () => new Date(t++),
    ...rec.options,
  });
  await chain.open(rec.state());
  for (let i = 0; i < requests; i++) await chain.append({ type: 'request', n: i });
  await chain.close();
  return chain;
}

/** Opens a chain on `sink` against the recorded state: the refusal, if any. */
async function reopenOn(sink: AuditSink, state: ChainState, key: ReturnType<typeof signer>) {
  const chain = new ChainedSink(sink, { signer: key, checkpointEvery: 3 });
  const opened = await chain.open(state).then(
    () => undefined,
    (err: { code?: string; message: string }) => err,
  );
  return { chain, opened };
}

async function sealedLog() {
  const key = signer();
  const rec = recorder();
  const lines: string[] = [];
  await session(lines, rec, key);
  return { key, rec, lines };
}

describe('audit chain continuity when a server opens a sink again (unseal, restart)', () => {
  it('an untouched file continues, its start recorded once', async () => {
    const { key, rec, lines } = await sealedLog();
    expect(rec.state().files).toEqual([
      expect.objectContaining({ seq: 1, previous: null, cause: 'start' }),
    ]);
    await session(lines, rec, key, 2);
    const types = lines.map((l) => JSON.parse(l).type);
    expect(types.filter((t) => t === 'open')).toHaveLength(2);
    expect(JSON.parse(lines[10] as string)).toMatchObject({ type: 'open', starts_file: false });
    expect(rec.state().files).toHaveLength(1);
    const report = verifyAuditLog(fileText(lines), {
      publicKey: key.pem,
      now: new Date(START + 1000),
      expectedCheckpoint: rec.state().checkpoint as CheckpointRecord,
      fileStarts: rec.state().files,
    });
    expect(report.problems).toEqual([]);
  });

  it.each([
    [
      'emptied',
      () => [] as string[],
      /the file is empty, but the server recorded its checkpoint at seq 10 in it/,
    ],
    [
      'cut after an earlier checkpoint',
      (lines: string[]) => lines.slice(0, 8),
      /the file ends at seq 8, before the checkpoint at seq 10 the server recorded: entries were cut from its end/,
    ],
    [
      'cut just before its last line',
      (lines: string[]) => lines.slice(0, 9),
      /the file ends at seq 9, before the checkpoint at seq 10/,
    ],
    [
      'cut at the start',
      (lines: string[]) => lines.slice(1),
      /does not begin with an open entry, as every file the server starts does: lines were cut from its start/,
    ],
    [
      'the recorded checkpoint removed from the middle of later lines',
      (lines: string[]) => [...lines.slice(0, 9), '{"seq":11,"prev":"x","type":"request"}'],
      /the file has no line at seq 10, where the server recorded its latest checkpoint/,
    ],
    [
      'ending with a line that is not an entry',
      (lines: string[]) => [...lines, 'garbage'],
      /its last line is not a custos audit entry/,
    ],
  ])(
    'a file %s while sealed is refused, with the reason, and nothing is written to it',
    async (_label, mutate, reason) => {
      const { key, rec, lines } = await sealedLog();
      const damaged = mutate(lines);
      const before = [...damaged];
      const { chain, opened } = await reopenOn(memorySink(damaged), rec.state(), key);
      expect(opened).toMatchObject({ code: 'ERR_AUDIT_CHAIN_BROKEN' });
      expect(opened?.message).toMatch(reason);
      expect(chain.refusal).toMatch(reason);
      await expect(chain.append({ type: 'request' })).rejects.toMatchObject({
        code: 'ERR_AUDIT_CHAIN_BROKEN',
      });
      await expect(chain.reopen()).rejects.toMatchObject({ code: 'ERR_AUDIT_CHAIN_BROKEN' });
      await chain.close(); // no close entry into a refused file
      expect(damaged).toEqual(before);
    },
  );

  it('a file replaced by another log with a line at the same seq is refused', async () => {
    const { key, rec } = await sealedLog();
    const other = recorder();
    const replacement: string[] = [];
    await session(replacement, other, key, 6);
    const { opened } = await reopenOn(memorySink(replacement), rec.state(), key);
    expect(opened?.message).toMatch(
      /the line at seq 10 is not the checkpoint the server recorded there: the file was replaced or edited/,
    );
  });

  it('a file cut back to a restart inside it is refused: its first line does not start a file', async () => {
    const { key, rec, lines } = await sealedLog();
    await session(lines, rec, key, 2); // restart at seq 11, same file
    const { opened } = await reopenOn(memorySink(lines.slice(10)), rec.state(), key);
    expect(opened?.message).toMatch(/its first line \(seq 11\) is a restart inside a file/);
  });

  it('a file that holds only a torn line, where the server recorded a checkpoint, is refused', async () => {
    const { key, rec } = await sealedLog();
    const torn: SinkHistory = {
      kind: 'regular',
      size: 12,
      backward: async function* () {},
      first: async () => undefined,
    };
    const { opened } = await reopenOn(
      { ...memorySink(), history: async () => torn },
      rec.state(),
      key,
    );
    expect(opened?.message).toMatch(
      /the file holds no complete line, but the server recorded its checkpoint at seq 10/,
    );
  });

  it('an unmarked open entry that is not a recorded start is refused once the server records starts', async () => {
    const { key, rec, lines } = await sealedLog();
    await session(lines, rec, key, 2); // restart at seq 11
    const cut = lines
      .slice(10)
      .map((line, i) => (i === 0 ? line.replace(',"starts_file":false', '') : line));
    const { opened } = await reopenOn(memorySink(cut), rec.state(), key);
    expect(opened?.message).toMatch(/its first line \(seq 11\) is a restart inside a file/);
  });

  it('a missing file, or one replaced by a device or pipe, is refused', async () => {
    const { key, rec } = await sealedLog();
    const sinkWith = (history: SinkHistory): AuditSink => ({
      ...memorySink(),
      history: async () => history,
    });
    const none = { size: 0, backward: async function* () {}, first: async () => undefined };
    const absent = await reopenOn(sinkWith({ kind: 'absent', ...none }), rec.state(), key);
    expect(absent.opened?.message).toMatch(
      /the file is missing, but the server recorded its checkpoint at seq 10/,
    );
    const device = await reopenOn(sinkWith({ kind: 'special', ...none }), rec.state(), key);
    expect(device.opened?.message).toMatch(/no longer a regular file/);
    const unreadable = await reopenOn(
      {
        ...memorySink(),
        history: () => Promise.reject(Object.assign(new Error('denied'), { code: 'EACCES' })),
      },
      rec.state(),
      key,
    );
    expect(unreadable.opened).toMatchObject({ code: 'ERR_AUDIT_CHAIN_BROKEN' });
    expect(unreadable.opened?.message).toMatch(
      /could not be read back to check its chain \(EACCES\)/,
    );
  });

  it('a file rotated right after the recorded checkpoint (it starts chained to it) continues', async () => {
    const key = signer();
    const rec = recorder();
    const files: string[][] = [[]];
    const current = () => files.at(-1) as string[];
    const rotating: AuditSink = {
      name: 'file',
      write: async (text) => {
        current().push(...text.split('\n'));
      },
      history: async () => memorySink(current()).history?.() as Promise<SinkHistory>,
      startsFile: async () => current().length === 0,
      reopen: async () => {
        files.push([]);
      },
      close: async () => {},
    };
    const chain = new ChainedSink(rotating, { signer: key, checkpointEvery: 100, ...rec.options });
    await chain.open(rec.state());
    await chain.append({ type: 'request', n: 1 });
    await chain.reopen(); // SIGHUP after the file was moved: the old file ends signed
    await chain.append({ type: 'request', n: 2 }); // then the server crashed: nothing signed here
    const recorded = rec.state();
    expect(recorded.checkpoint?.seq).toBe(3);
    expect(recorded.files.map((f) => [f.seq, f.cause])).toEqual([
      [1, 'start'],
      [4, 'start'],
    ]);
    const { opened } = await reopenOn(memorySink(current()), recorded, key);
    expect(opened).toBeUndefined();
    // A later file that does not chain to the checkpoint is not taken.
    const { opened: unchained } = await reopenOn(memorySink(current().slice(1)), recorded, key);
    expect(unchained?.message).toMatch(
      /the file starts at seq 5, after the server's latest checkpoint \(seq 3\), without chaining to it/,
    );
    // Its first line at the right seq but chained elsewhere, or chained right at the wrong seq.
    const reopened = current();
    const misChained = [
      editFirst(reopened, (e) => (e.prev = 'e'.repeat(64))),
      ...reopened.slice(1),
    ];
    const { opened: wrongPrev } = await reopenOn(memorySink(misChained), recorded, key);
    expect(wrongPrev?.message).toMatch(
      /the file starts at seq 4, after the server's latest checkpoint/,
    );
    const misNumbered = [editFirst(reopened, (e) => (e.seq = 5)), ...reopened.slice(1)];
    const { opened: wrongSeq } = await reopenOn(memorySink(misNumbered), recorded, key);
    expect(wrongSeq?.message).toMatch(
      /the file starts at seq 5, after the server's latest checkpoint/,
    );
  });

  it('a sink the server has no record of is taken as it is (first activation)', async () => {
    const key = signer();
    const { opened } = await reopenOn(
      memorySink(['{"seq":5,"prev":"x","type":"request"}']),
      { files: [] },
      key,
    );
    expect(opened).toBeUndefined();
  });
});

describe('starting a new file for a refused sink', () => {
  it('chains the new file to the recorded checkpoint, says why, records its start, and both files verify', async () => {
    const { key, rec, lines } = await sealedLog();
    const oldFile = [...lines];
    const recorded = rec.state().checkpoint as CheckpointRecord;
    // The file was emptied while sealed: refused.
    const fresh: string[] = [];
    let t = START + 10_000;
    const chain = new ChainedSink(memorySink(fresh), {
      signer: key,
      checkpointEvery: 3,
      now: () => new Date(t++),
      ...rec.options,
    });
    await expect(chain.open(rec.state())).rejects.toMatchObject({ code: 'ERR_AUDIT_CHAIN_BROKEN' });
    const operatorRequest = { type: 'request', request: { path: 'sys/audit/new-file/file' } };
    await chain.startNewFile({ seq: recorded.seq, hash: recorded.hash }, [operatorRequest]);
    expect(chain.refusal).toBeUndefined();
    await chain.append({ type: 'request', n: 'after' });
    await chain.close();

    const open = JSON.parse(fresh[0] as string);
    expect(open).toMatchObject({
      type: 'open',
      seq: recorded.seq + 1,
      prev: recorded.hash,
      starts_file: true,
      new_file: {
        previous_checkpoint: { seq: recorded.seq, hash: recorded.hash },
        refused: expect.stringMatching(/the file is empty/),
      },
    });
    expect(JSON.parse(fresh[1] as string)).toMatchObject(operatorRequest);
    const files = rec.state().files;
    expect(files.at(-1)).toMatchObject({
      seq: recorded.seq + 1,
      cause: 'new-file',
      previous: { seq: recorded.seq, hash: recorded.hash },
    });

    const server = {
      publicKey: key.pem,
      now: new Date(t),
      expectedCheckpoint: rec.state().checkpoint as CheckpointRecord,
      fileStarts: files,
    };
    const current = verifyAuditLog(fileText(fresh), server);
    expect(current.problems).toEqual([]);
    expect(current.firstSeq).toBe(recorded.seq + 1);
    // The old file (had it been kept whole) ends at the checkpoint the new file chains to.
    const old = verifyAuditLog(fileText(oldFile), server);
    expect(old.problems).toEqual([]);
    expect(old.notes.join('\n')).toMatch(
      /an earlier file of this sink: the next one starts at seq 11/,
    );
    // And the two verify as one chain.
    expect(
      verifyAuditLog(fileText([...oldFile, ...fresh]), { publicKey: key.pem, now: new Date(t) })
        .problems,
    ).toEqual([]);
    // A cut copy of the old file does not: its end is recorded.
    const cut = verifyAuditLog(fileText(oldFile.slice(0, 8)), server);
    expect(cut.problems.join('\n')).toMatch(
      /the checkpoint \(seq 10\) the server recorded as this file's end when the next file started \(seq 11\) is not in the file/,
    );
  });

  it('is refused for a sink that was not refused', async () => {
    const { key, rec, lines } = await sealedLog();
    const { chain, opened } = await reopenOn(memorySink(lines), rec.state(), key);
    expect(opened).toBeUndefined();
    await expect(chain.startNewFile(null, [])).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
  });
});

describe('a failed write of an open entry', () => {
  it('is announced again by the next write, so a file never begins without one', async () => {
    const key = signer();
    const lines: string[] = [];
    let fail = true;
    const sink: AuditSink = {
      ...memorySink(lines),
      write: async (text) => {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
        lines.push(...text.split('\n'));
      },
    };
    const chain = new ChainedSink(sink, { signer: key });
    await expect(chain.open()).rejects.toThrow('disk full');
    await chain.append({ type: 'request', n: 1 });
    await chain.close();
    expect(lines.map((l) => JSON.parse(l).type)).toEqual([
      'open',
      'request',
      'close',
      'checkpoint',
    ]);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ seq: 1, starts_file: true });
    expect(verifyAuditLog(fileText(lines), { publicKey: key.pem }).problems).toEqual([]);
  });
});

describe('verifying where a file begins', () => {
  it('offline: a file that begins at a restart inside a file, or not at an open entry, was cut', async () => {
    const { key, rec, lines } = await sealedLog();
    await session(lines, rec, key, 2); // restart at seq 11 in the same file
    const atRestart = verifyAuditLog(fileText(lines.slice(10)), { publicKey: key.pem });
    expect(atRestart.problems.join('\n')).toMatch(
      /line 1: the file begins with the open entry of a restart inside a file \(seq 11\), not of a new file: the lines before it were cut/,
    );
    const atRequest = verifyAuditLog(fileText(lines.slice(1)), { publicKey: key.pem });
    expect(atRequest.problems.join('\n')).toMatch(
      /line 1: the file begins with a request entry \(seq 2\), not with the open entry/,
    );
    // An open entry from a writer that did not mark file starts: a warning, not a problem.
    const legacy = lines
      .slice(10)
      .map((line, i) => (i === 0 ? line.replace(',"starts_file":false', '') : line));
    const old = verifyAuditLog(fileText(legacy), { publicKey: key.pem });
    expect(old.problems.join('\n')).toMatch(/line 2: does not chain/); // the edit itself shows
    expect(old.warnings.join('\n')).toMatch(/does not say whether it started the file/);
  });

  it('against the server: the file must begin at a recorded start, unless it is older than every record', async () => {
    const { key, rec, lines } = await sealedLog();
    const records = {
      publicKey: key.pem,
      expectedCheckpoint: rec.state().checkpoint as CheckpointRecord,
    };
    const fileStarts = rec.state().files;
    expect(verifyAuditLog(fileText(lines), { ...records, fileStarts }).problems).toEqual([]);
    const unknownStart = [{ ...(fileStarts[0] as FileStart), hash: 'f'.repeat(64) }];
    const replaced = verifyAuditLog(fileText(lines), { ...records, fileStarts: unknownStart });
    expect(replaced.problems.join('\n')).toMatch(
      /the file begins at seq 1, where the server recorded no file start for this sink \(its files start at seq 1\): lines were cut from its start, or the file was replaced/,
    );
    const laterRecords = [{ ...(fileStarts[0] as FileStart), seq: 5 }];
    const older = verifyAuditLog(fileText(lines), { ...records, fileStarts: laterRecords });
    expect(older.problems).toEqual([]);
    expect(older.notes.join('\n')).toMatch(
      /before the oldest file start the server still records \(seq 5\)/,
    );
  });

  it('a rotated file from a writer that did not mark file starts is adopted once, then known', async () => {
    const { key, rec } = await sealedLog();
    // Such a writer's rotated file: an open entry chained to the last checkpoint, no starts_file.
    const checkpoint = rec.state().checkpoint as CheckpointRecord;
    const rotated = [
      JSON.stringify({
        time: new Date(START + 500).toISOString(),
        seq: checkpoint.seq + 1,
        prev: checkpoint.hash,
        type: 'open',
        sink: 'file',
      }),
    ];
    // The server's records, as a server from before file starts were recorded left them.
    const legacyState = { checkpoint, files: [] };
    const adopted: FileStart[] = [];
    const first = new ChainedSink(memorySink(rotated), {
      signer: key,
      checkpointEvery: 3,
      onFileStart: (f) => adopted.push(f),
      onCheckpoint: (c) => {
        legacyState.checkpoint = c;
      },
    });
    await first.open(legacyState);
    await first.close();
    expect(adopted).toEqual([
      expect.objectContaining({
        seq: checkpoint.seq + 1,
        previous: { seq: checkpoint.seq, hash: checkpoint.hash },
      }),
    ]);
    const { opened } = await reopenOn(
      memorySink(rotated),
      { checkpoint: legacyState.checkpoint, files: adopted },
      key,
    );
    expect(opened).toBeUndefined();
  });
});

/** The first of `lines`, edited. */
function editFirst(
  lines: readonly string[],
  edit: (entry: Record<string, unknown>) => void,
): string {
  const entry = JSON.parse(lines[0] as string) as Record<string, unknown>;
  edit(entry);
  return JSON.stringify(entry);
}
