import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fileText, memorySink, signer } from '../../test/audit.js';
import { ChainedSink, checkpointMessage, GENESIS_HASH, lineHash } from './audit-chain.js';
import { LATE_CHECKPOINT_GRACE_MS, verifyAuditLog } from './audit-verify.js';

// The verifier's rules one at a time, on hand-made logs whose checkpoints are signed here with
// the test key: each report is checked whole (problems, warnings and notes word for word), so
// a rule that stops firing, or fires once too often, shows.

const START = Date.parse('2026-01-01T00:00:00.000Z');
const key = signer();

/**
 * Lines chaining `entries` from `from` (genesis by default), 1 s apart unless `times` (ms
 * after START) says otherwise; a `checkpoint` without a signature is signed with `key`.
 */
function build(
  entries: readonly Record<string, unknown>[],
  options: { from?: { seq: number; prev: string }; times?: readonly number[] } = {},
): string[] {
  const lines: string[] = [];
  let seq = options.from?.seq ?? 1;
  let prev = options.from?.prev ?? GENESIS_HASH;
  entries.forEach((fields, i) => {
    const time = new Date(START + (options.times?.[i] ?? i * 1000)).toISOString();
    let body = fields;
    if (fields.type === 'checkpoint' && !('signature' in fields)) {
      const message = checkpointMessage('file', seq, prev, time);
      body = {
        type: 'checkpoint',
        sink: 'file',
        key_id: key.keyId,
        signature: sign(null, message, key.privateKey).toString('base64'),
      };
    }
    const line = JSON.stringify({ time, seq, prev, ...body });
    lines.push(line);
    prev = lineHash(line);
    seq += 1;
  });
  return lines;
}

const open = (every = 100, intervalMs = 10_000, more: Record<string, unknown> = {}) => ({
  type: 'open',
  sink: 'file',
  key_id: key.keyId,
  public_key: key.publicKey,
  checkpoint_every: every,
  checkpoint_interval_ms: intervalMs,
  starts_file: true,
  ...more,
});
const request = (n: number) => ({ type: 'request', n });
const checkpoint = { type: 'checkpoint' };
const close = { type: 'close', sink: 'file' };

/** Verified with the server key, judged `nowMs` after START (a minute by default). */
const check = (lines: readonly string[], nowMs = 60_000, extra = {}) =>
  verifyAuditLog(fileText(lines), { publicKey: key.pem, now: new Date(START + nowMs), ...extra });

const findings = (report: ReturnType<typeof check>) => ({
  problems: report.problems,
  warnings: report.warnings,
  notes: report.notes,
});

describe('audit verification rules', () => {
  it('a hand-made signed log verifies clean, with every count of the report', () => {
    const lines = build([open(), request(1), checkpoint, request(2), close, checkpoint]);
    expect(check(lines)).toEqual({
      ok: true,
      problems: [],
      warnings: [],
      notes: [],
      entries: 6,
      firstSeq: 1,
      lastSeq: 6,
      lastCheckpointSeq: 6,
      unsigned: undefined,
      closed: true,
      movedAside: false,
    });
  });

  it('a damaged line that the next line chains to: the damage and the missing seq, no broken link', () => {
    const lines = build([open(), request(1), request(2), checkpoint]);
    lines[2] = '{"seq":3,"damaged';
    const rebuilt = build([checkpoint], { from: { seq: 4, prev: lineHash(lines[2]) } });
    lines[3] = rebuilt[0] as string;
    expect(check(lines).problems).toEqual([
      'line 3: not valid JSON (edited or damaged)',
      'line 4: entries 3..3 are missing (removed)',
    ]);
  });

  it('a line without seq that the next line chains to: named once, the rest continues', () => {
    const lines = build([open(), request(1), request(2), checkpoint]);
    lines[2] = JSON.stringify({ time: new Date(START).toISOString(), prev: 'x', type: 'request' });
    const rebuilt = build([checkpoint], { from: { seq: 4, prev: lineHash(lines[2]) } });
    lines[3] = rebuilt[0] as string;
    expect(check(lines).problems).toEqual([
      'line 3: missing seq or prev (not a custos audit entry, or edited)',
      'line 4: entries 3..3 are missing (removed)',
    ]);
    // A seq without a prev, or with a prev that is not a hash's text: the same, once.
    for (const prev of [undefined, 7, null]) {
      const time = new Date(START).toISOString();
      lines[2] = JSON.stringify({ time, seq: 3, prev, type: 'request' });
      lines[3] = build([checkpoint], { from: { seq: 4, prev: lineHash(lines[2]) } })[0] as string;
      expect(check(lines).problems).toEqual([
        'line 3: missing seq or prev (not a custos audit entry, or edited)',
        'line 4: entries 3..3 are missing (removed)',
      ]);
    }
  });

  it('a line cut mid-entry at the end of the file: named by its line number', () => {
    const lines = build([open(), request(1), checkpoint]);
    const text = fileText(lines);
    const cut = text.slice(0, text.length - 10);
    expect(verifyAuditLog(cut, { publicKey: key.pem, now: new Date(START + 5_000) })).toEqual(
      expect.objectContaining({
        ok: false,
        problems: [
          'line 3: incomplete line (the file was cut mid-entry)',
          'line 3: not valid JSON (edited or damaged)',
        ],
        warnings: [
          'entries 1..2 are chained but not signed yet (the writer signs within 10 s or 100 entries): their content is not authenticated until then, and entries cut from the end would not show',
        ],
        entries: 3,
        lastSeq: 2,
        unsigned: { from: 1, to: 2 },
      }),
    );
  });

  it('an entry appended after a signed close is named; an open entry there is a restart', () => {
    const closed = build([open(), request(1), close, checkpoint]);
    const appended = [...closed, ...build([request(2)], { from: nextOf(closed) })];
    expect(findings(check(appended, 10_000))).toEqual({
      problems: [
        'line 5: an entry after the signed close at seq 4 that is not an open entry (the server writes nothing after closing a log until it opens it again): appended',
      ],
      warnings: [
        'entries 5..5 are chained but not signed yet (the writer signs within 10 s or 100 entries): their content is not authenticated until then, and entries cut from the end would not show',
      ],
      notes: [],
    });
    const restarted = [
      ...closed,
      ...build([open(100, 10_000, { starts_file: false }), request(2), checkpoint], {
        from: nextOf(closed),
      }),
    ];
    expect(check(restarted)).toMatchObject({
      ok: true,
      problems: [],
      warnings: [
        'the log was not closed: it ends at the checkpoint at seq 7. The server may still be writing it, or entries after that checkpoint were cut; the file alone cannot tell (verify with --server)',
      ],
      closed: false,
      movedAside: false,
    });
  });

  it('a close whose checkpoint is invalid does not count as a signed close', () => {
    const lines = build([open(), request(1), close, { ...checkpoint, signature: 'AAAA' }]);
    const appended = [...lines, ...build([checkpoint], { from: nextOf(lines) })];
    expect(check(appended)).toMatchObject({
      problems: [
        'line 4: checkpoint signature is invalid (the checkpoint or the chain before it was changed)',
      ],
      closed: false,
      movedAside: false,
      lastCheckpointSeq: 5,
    });
  });

  it('a file ending at an invalid checkpoint: that problem, and no warning that it ends signed', () => {
    const lines = build([
      open(),
      request(1),
      checkpoint,
      request(2),
      { ...checkpoint, signature: 'AAAA' },
    ]);
    expect(check(lines)).toMatchObject({
      problems: [
        'line 5: checkpoint signature is invalid (the checkpoint or the chain before it was changed)',
      ],
      warnings: [],
      lastCheckpointSeq: 3,
      unsigned: { from: 4, to: 5 },
    });
  });

  it('a restart over unsigned entries is a warning naming them', () => {
    const lines = build([
      open(),
      request(1),
      request(2),
      open(100, 10_000, { starts_file: false }),
      checkpoint,
    ]);
    expect(findings(check(lines))).toEqual({
      problems: [],
      warnings: [
        'line 4: the server restarted at seq 4 after entries 1..3, which the server that wrote them never signed (it stopped without closing the log); a later checkpoint covers them, but entries cut from their end before the restart would not show',
        'the log was not closed: it ends at the checkpoint at seq 5. The server may still be writing it, or entries after that checkpoint were cut; the file alone cannot tell (verify with --server)',
      ],
      notes: [],
    });
  });

  it('a missing checkpoint is counted from the entry after the last checkpoint, and reported once per run', () => {
    const lines = build([
      open(2),
      request(1),
      checkpoint,
      request(2),
      request(3),
      request(4),
      request(5),
    ]);
    expect(check(lines).problems).toEqual([
      'line 6: a checkpoint was due after 2 unsigned entries (seq 4..5), and there is none before seq 6',
    ]);
    // Exactly N unsigned entries at the end are due their checkpoint: the end is cut.
    const atEnd = build([open(2), request(1), checkpoint, request(2), request(3)]);
    expect(check(atEnd).problems).toEqual([
      'a checkpoint was due after 2 unsigned entries (seq 4..5), and the file ends unsigned at seq 5: the file was cut, or the server stopped without closing the log (a crash)',
    ]);
    expect(check(atEnd.slice(0, -1), 10_000).problems).toEqual([]);
  });

  it('a missing checkpoint by time is judged from the first unsigned entry after the last checkpoint', () => {
    // Checkpoint at 5 s; unsigned entries from 6 s: an entry at 15.999 s is in time.
    const inTime = build([open(100, 10_000), checkpoint, request(1), request(2)], {
      times: [0, 5_000, 6_000, 15_999],
    });
    expect(check(inTime, 16_000).problems).toEqual([]);
    const late = build([open(100, 10_000), checkpoint, request(1), request(2)], {
      times: [0, 5_000, 6_000, 16_000],
    });
    expect(check(late, 16_000).problems).toEqual([
      'line 4: a checkpoint was due by 2026-01-01T00:00:16.000Z (10 s after seq 3), and there is none before seq 4',
    ]);
  });

  it('the unsigned end is a problem exactly the interval plus the grace after its first entry', () => {
    const lines = build([open(100, 10_000), checkpoint, request(1)], { times: [0, 1_000, 2_000] });
    const due = 2_000 + 10_000 + LATE_CHECKPOINT_GRACE_MS;
    expect(check(lines, due - 1)).toMatchObject({
      ok: true,
      warnings: [
        'entries 3..3 are chained but not signed yet (the writer signs within 10 s or 100 entries): their content is not authenticated until then, and entries cut from the end would not show',
      ],
      unsigned: { from: 3, to: 3 },
    });
    expect(findings(check(lines, due))).toEqual({
      problems: [
        'a checkpoint was due by 2026-01-01T00:00:12.000Z (10 s after seq 3), and the file ends unsigned at seq 3: the file was cut, or the server stopped without closing the log (a crash)',
      ],
      warnings: [],
      notes: [],
    });
  });

  it('a run already reported mid-file is not reported again at the end of the file', () => {
    const lines = build([open(2), request(1), request(2)]);
    expect(findings(check(lines))).toEqual({
      problems: [
        'line 3: a checkpoint was due after 2 unsigned entries (seq 1..2), and there is none before seq 3',
      ],
      warnings: [],
      notes: [],
    });
  });

  it('a time that is not an ISO string is not a timestamp, and the entry after it is judged against the last good time', () => {
    // seq 1 at 10 min; seq 2 dated by a number (one Date.parse would read as the year 2026,
    // START); seq 3 at START, ten minutes before seq 1.
    const lines = build([open(100, 3_600_000)], { times: [10 * 60_000] });
    for (const [seq, time] of [
      [2, 2026],
      [3, new Date(START).toISOString()],
    ] as const) {
      lines.push(
        JSON.stringify({ time, seq, prev: lineHash(lines.at(-1) as string), ...request(seq) }),
      );
    }
    expect(check(lines, 11 * 60_000).problems).toEqual([
      'line 2: time 2026 is not a timestamp (edited, or not written by custos)',
      `line 3: time ${new Date(START).toISOString()} is earlier than the entry before it (${new Date(START + 10 * 60_000).toISOString()}) by more than the allowed clock skew (300 s): appended or edited, or the server's clock was set back`,
    ]);
  });

  it('an empty file: one problem, nothing else in the report', () => {
    expect(verifyAuditLog('', { now: new Date(START) })).toEqual({
      ok: false,
      problems: [
        'the file is empty: a custos audit log starts with an open entry, so nothing here can be verified (emptied, or not an audit log)',
      ],
      warnings: [],
      notes: [],
      entries: 0,
      firstSeq: undefined,
      lastSeq: undefined,
      lastCheckpointSeq: undefined,
      unsigned: undefined,
      closed: false,
      movedAside: false,
    });
  });

  it('a file that begins with a request entry: that problem alone, then the run as usual', () => {
    const lines = build([request(1), request(2), checkpoint]);
    expect(findings(check(lines))).toEqual({
      problems: [
        'line 1: the file begins with a request entry (seq 1), not with the open entry every file the server writes begins with: lines before it were cut, or the file was emptied while the server wrote to it',
      ],
      warnings: [
        'the log was not closed: it ends at the checkpoint at seq 3. The server may still be writing it, or entries after that checkpoint were cut; the file alone cannot tell (verify with --server)',
      ],
      notes: [
        'no open entry announces the checkpoint cadence; the defaults were assumed (100 entries, 10 s)',
      ],
    });
  });

  it('an open entry whose public key is not text announces no key', () => {
    const lines = build([open(100, 10_000, { public_key: 5 }), request(1), checkpoint]);
    expect(verifyAuditLog(fileText(lines), { now: new Date(START + 60_000) }).problems).toEqual([
      `line 3: checkpoint signed by unknown key ${key.keyId}`,
    ]);
  });

  it('a cadence is taken only when both numbers are positive integers', () => {
    for (const [every, interval] of [
      [0, 5_000],
      [5, 0],
      [-1, 5_000],
      ['5', 5_000],
      [5, 2.5],
    ]) {
      const lines = build([
        { ...open(), checkpoint_every: every, checkpoint_interval_ms: interval },
        checkpoint,
      ]);
      expect(check(lines).notes).toEqual([
        'no open entry announces the checkpoint cadence; the defaults were assumed (100 entries, 10 s)',
      ]);
    }
    const announced = build([open(1, 1), checkpoint]);
    expect(check(announced).notes).toEqual([]);
  });

  it('a later open entry announces the cadence from there on', () => {
    const lines = build([
      open(100),
      request(1),
      checkpoint,
      open(2, 10_000, { starts_file: false }),
      request(2),
      request(3),
    ]);
    expect(check(lines).problems).toEqual([
      'line 6: a checkpoint was due after 2 unsigned entries (seq 4..5), and there is none before seq 6',
    ]);
  });

  it('without a server key, only keys announced by an open entry with a key id verify', () => {
    const lines = build([open(100, 10_000, { key_id: 7 }), request(1), checkpoint]);
    expect(verifyAuditLog(fileText(lines), { now: new Date(START + 60_000) }).problems).toEqual([
      `line 3: checkpoint signed by unknown key ${key.keyId}`,
    ]);
    // A key announced by an entry that is not an open entry is not taken either.
    const smuggled = build([
      open(100, 10_000, { key_id: 'other' }),
      { type: 'request', key_id: key.keyId, public_key: key.publicKey },
      checkpoint,
    ]);
    expect(verifyAuditLog(fileText(smuggled), { now: new Date(START + 60_000) }).problems).toEqual([
      `line 3: checkpoint signed by unknown key ${key.keyId}`,
    ]);
  });

  it('a trusted key that cannot verify Ed25519 signatures makes every checkpoint invalid, never valid', () => {
    const x25519 = generateKeyPairSync('x25519').publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const lines = build([open(), request(1), checkpoint]);
    const report = verifyAuditLog(fileText(lines), {
      publicKey: x25519.toString(),
      now: new Date(START + 60_000),
    });
    expect(report).toMatchObject({
      ok: false,
      problems: [
        'line 3: checkpoint signature is invalid (the checkpoint or the chain before it was changed)',
      ],
      lastCheckpointSeq: undefined,
    });
  });
});

describe('audit verification against the server records', () => {
  // Two files: the first ends at the checkpoint (seq 4) the second starts after.
  const first = build([open(), request(1), request(2), checkpoint]);
  const second = build([open(), request(3), checkpoint], { from: nextOf(first) });
  const startOf = (lines: string[], previous: { seq: number; hash: string } | null) => ({
    seq: JSON.parse(lines[0] as string).seq as number,
    hash: lineHash(lines[0] as string),
    previous,
  });
  const end = (lines: string[]) => ({
    seq: JSON.parse(lines.at(-1) as string).seq as number,
    hash: lineHash(lines.at(-1) as string),
  });
  const fileStarts = [startOf(first, null), startOf(second, end(first))];

  it('an earlier file must hold the checkpoint the next file chains to, not the latest', () => {
    // Moved aside after that checkpoint, never closed: complete, not "not closed".
    expect(check(first, 60_000, { fileStarts, expectedCheckpoint: end(second) })).toMatchObject({
      closed: false,
      movedAside: true,
    });
    expect(check(second, 60_000, { fileStarts, expectedCheckpoint: end(second) }).movedAside).toBe(
      false,
    );
    expect(findings(check(first, 60_000, { fileStarts, expectedCheckpoint: end(second) }))).toEqual(
      {
        problems: [],
        warnings: [],
        notes: [
          'an earlier file of this sink: the next one starts at seq 5',
          'it ends at the checkpoint the next file chains to (seq 4): nothing is missing from its end',
        ],
      },
    );
    // Entries signed onto it after that checkpoint fork the chain the next file continues.
    const forked =
      "the file goes on after the checkpoint (seq 4) the server recorded as this file's end when the next file started (seq 5), to seq 6: entries were added to it after the sink moved on to the next file";
    const longer = build([open(), request(1), request(2), checkpoint, request(9), checkpoint]);
    expect(longer.slice(0, 4)).toEqual(first);
    expect(check(longer, 60_000, { fileStarts, expectedCheckpoint: end(second) })).toMatchObject({
      problems: [forked],
      // Ending at a checkpoint of its own is not ending where the next file chains.
      movedAside: false,
      notes: ['an earlier file of this sink: the next one starts at seq 5'],
    });
    // However the added entries end: not signed yet, the same fork.
    const unsigned = build([open(), request(1), request(2), checkpoint, request(9), request(10)]);
    expect(unsigned.slice(0, 4)).toEqual(first);
    expect(
      check(unsigned, 1_000, { fileStarts, expectedCheckpoint: end(second) }).problems,
    ).toContain(forked);
    const cut = first.slice(0, 3);
    expect(check(cut, 5_000, { fileStarts, expectedCheckpoint: end(second) }).problems).toEqual([
      "the checkpoint (seq 4) the server recorded as this file's end when the next file started (seq 5) is not in the file: entries were cut from its end, or the file was replaced",
    ]);
  });

  it('the current file must hold the latest checkpoint', () => {
    expect(
      findings(check(second, 60_000, { fileStarts, expectedCheckpoint: end(second) })),
    ).toEqual({
      problems: [],
      warnings: ["the log was not closed; it ends at the server's latest checkpoint (seq 7)"],
      notes: [
        'the chain starts at seq 5, continuing an earlier file; its first link is not checkable here',
      ],
    });
    expect(
      check(second.slice(0, 2), 5_000, { fileStarts, expectedCheckpoint: end(second) }).problems,
    ).toEqual([
      "the server's latest checkpoint (seq 7) is not in the file: entries were cut from its end, or the file was replaced",
    ]);
  });

  it('the current file rotated right after the latest checkpoint, unsigned since, passes with a note', () => {
    const young = second.slice(0, 2);
    const report = check(young, 1_000 * 6, { fileStarts, expectedCheckpoint: end(first) });
    expect(findings(report)).toEqual({
      problems: [],
      warnings: [
        'entries 5..6 are chained but not signed yet (the writer signs within 10 s or 100 entries): their content is not authenticated until then, and entries cut from the end would not show',
      ],
      notes: [
        'the chain starts at seq 5, continuing an earlier file; its first link is not checkable here',
        "the server's latest checkpoint (seq 4) ends the previous file: this file starts right after it, at a recorded file start",
      ],
    });
    // The same file against a latest checkpoint its start does not chain to: cut or replaced.
    const other = { seq: 4, hash: lineHash('another line') };
    expect(
      check(young, 6_000, {
        fileStarts: [fileStarts[0], { ...fileStarts[1], previous: other }],
        expectedCheckpoint: end(first),
      }).problems,
    ).toEqual([
      "the server's latest checkpoint (seq 4) is not in the file: entries were cut from its end, or the file was replaced",
    ]);
  });

  it('no recorded start at all is no record; the genesis file as the current file holds the latest checkpoint', () => {
    expect(findings(check(first, 60_000, { fileStarts: [] }))).toEqual(findings(check(first)));
    expect(verifyAuditLog('', { fileStarts }).problems).toEqual([
      'the file is empty: a custos audit log starts with an open entry, so nothing here can be verified (emptied, or not an audit log)',
    ]);
    expect(
      findings(
        check(first, 60_000, { fileStarts: [fileStarts[0]], expectedCheckpoint: end(first) }),
      ),
    ).toEqual({
      problems: [],
      warnings: ["the log was not closed; it ends at the server's latest checkpoint (seq 4)"],
      notes: [],
    });
    // The current file with the starts but no latest checkpoint: checked against the starts.
    expect(findings(check(second, 60_000, { fileStarts }))).toEqual({
      problems: [],
      warnings: [
        'the log was not closed: it ends at the checkpoint at seq 7. The server may still be writing it, or entries after that checkpoint were cut; the file alone cannot tell (verify with --server)',
      ],
      notes: [
        'the chain starts at seq 5, continuing an earlier file; its first link is not checkable here',
      ],
    });
  });

  it('an earlier file is held to its recorded end, whatever latest checkpoint is given', () => {
    const third = build([open(), request(4), checkpoint], { from: nextOf(second) });
    const starts = [...fileStarts, startOf(third, end(second))];
    expect(
      check(second.slice(0, 2), 5_000, { fileStarts: starts, expectedCheckpoint: end(first) })
        .problems,
    ).toEqual([
      "the checkpoint (seq 7) the server recorded as this file's end when the next file started (seq 8) is not in the file: entries were cut from its end, or the file was replaced",
    ]);
  });

  it('a file beginning where no start is recorded is a problem; before the oldest record, a note', () => {
    const third = build([open(), request(4), checkpoint], { from: nextOf(second) });
    expect(check(third, 60_000, { fileStarts }).problems).toEqual([
      'the file begins at seq 8, where the server recorded no file start for this sink (its files start at seq 1, 5): lines were cut from its start, or the file was replaced',
    ]);
    // A start at the same seq with another hash is not a recorded start.
    const replaced = build([open(100, 10_000, { n: 9 }), request(9), checkpoint], {
      from: nextOf(first),
    });
    expect(check(replaced, 60_000, { fileStarts }).problems).toEqual([
      'the file begins at seq 5, where the server recorded no file start for this sink (its files start at seq 1, 5): lines were cut from its start, or the file was replaced',
    ]);
    const older = check(second, 60_000, {
      fileStarts: [startOf(third, end(second))],
      expectedCheckpoint: { seq: 99, hash: lineHash('x') },
    });
    expect(findings(older)).toEqual({
      problems: [],
      warnings: [
        'the log was not closed: it ends at the checkpoint at seq 7. The server may still be writing it, or entries after that checkpoint were cut; the file alone cannot tell (verify with --server)',
      ],
      notes: [
        'the chain starts at seq 5, continuing an earlier file; its first link is not checkable here',
        'the file begins at seq 5, before the oldest file start the server still records (seq 8): its start and end cannot be checked against the server',
      ],
    });
    // At the oldest start's seq but not that start: a problem, not "older".
    const atOldest = check(second, 60_000, {
      fileStarts: [{ ...startOf(second, end(first)), hash: lineHash('x') }],
    });
    expect(atOldest.problems).toEqual([
      'the file begins at seq 5, where the server recorded no file start for this sink (its files start at seq 5): lines were cut from its start, or the file was replaced',
    ]);
  });
});

function nextOf(lines: readonly string[]): { seq: number; prev: string } {
  const last = lines.at(-1) as string;
  return { seq: (JSON.parse(last).seq as number) + 1, prev: lineHash(last) };
}

describe('a key announced by an open entry', () => {
  it('is reported where it cannot be read (an edit), never blamed on the key given', async () => {
    const key = signer();
    const sink = memorySink();
    const chain = new ChainedSink(sink, { signer: key });
    await chain.open();
    await chain.close();
    const lines = [...sink.lines];
    lines[0] = (lines[0] as string).replace(/"public_key":"[^"]*"/, '"public_key":"damaged"');
    const report = verifyAuditLog(fileText(lines), { publicKey: key.pem });
    expect(report.problems).toEqual([
      'line 1: the public key it announces cannot be read',
      'line 2: does not chain to the line before it (an entry before it was edited, removed or inserted)',
    ]);
  });
});
