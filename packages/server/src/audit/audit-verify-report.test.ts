import { describe, expect, it } from 'vitest';
import { fileText, memorySink, signer } from '../../test/audit.js';
import { ChainedSink, type CheckpointRecord, GENESIS_HASH, lineHash } from './audit-chain.js';
import { DEFAULT_CLOCK_SKEW_MS, verifyAuditLog } from './audit-verify.js';

// What `custos audit verify` reports, word for word, for each finding the other audit tests
// only detect: an operator reads these lines, and a changed one must be a decision.

const START = Date.parse('2026-01-01T00:00:00.000Z');

/** open, `requests` requests, then a checkpoint (every 100 entries otherwise); 1 ms apart. */
async function signedLog(requests = 3, closeIt = false) {
  const key = signer();
  const sink = memorySink();
  let t = START;
  const checkpoints: CheckpointRecord[] = [];
  const chain = new ChainedSink(sink, {
    signer: key,
    checkpointEvery: 100,
    now: () => new Date(t++),
    onCheckpoint: (c) => checkpoints.push(c),
  });
  await chain.open();
  for (let i = 0; i < requests; i++) await chain.append({ type: 'request', n: i });
  if (closeIt) await chain.close();
  else await chain.checkpoint();
  return { key, lines: [...sink.lines], checkpoints, at: new Date(t) };
}

const parse = (line: string) => JSON.parse(line) as Record<string, unknown>;

/**
 * A hand-made chain of entries (no signatures): `prev` links computed, times 1 s apart; from
 * seq 1 at genesis unless it continues an earlier file.
 */
function chainOf(
  entries: readonly Record<string, unknown>[],
  from: { seq: number; prev: string } = { seq: 1, prev: GENESIS_HASH },
): string[] {
  const lines: string[] = [];
  let prev = from.prev;
  entries.forEach((fields, i) => {
    const line = JSON.stringify({
      time: new Date(START + i * 1000).toISOString(),
      seq: from.seq + i,
      prev,
      ...fields,
    });
    lines.push(line);
    prev = lineHash(line);
  });
  return lines;
}

describe('audit verification reports', () => {
  it('an intact signed log verified with the server key: no problem, no warning, no note', async () => {
    const { lines, key, at, checkpoints } = await signedLog(3, true);
    const report = verifyAuditLog(fileText(lines), {
      publicKey: key.pem,
      now: at,
      expectedCheckpoint: checkpoints.at(-1) as CheckpointRecord,
    });
    expect(report).toEqual({
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

  it('without the server key: signatures checked against the announced key, and it says so', async () => {
    const { lines, at } = await signedLog();
    const report = verifyAuditLog(fileText(lines), { now: at });
    expect(report.ok).toBe(true);
    expect(report.notes).toEqual([
      'signatures were checked against the keys announced in the file; pass the server public key to rule out a rewritten file',
    ]);
    // A DER (base64) server key is taken like a PEM one.
    const der = (parse(lines[0] as string).public_key as string).toString();
    expect(verifyAuditLog(fileText(lines), { now: at, publicKey: der }).notes).toEqual([]);
  });

  it('a line without seq or prev, and entries missing from the sequence', async () => {
    const { lines, key, at } = await signedLog(4);
    const noSeq = [...lines];
    const entry = parse(noSeq[2] as string);
    delete entry.seq;
    noSeq[2] = JSON.stringify(entry);
    expect(verifyAuditLog(fileText(noSeq), { publicKey: key.pem, now: at }).problems).toEqual(
      expect.arrayContaining([
        'line 3: missing seq or prev (not a custos audit entry, or edited)',
        'line 4: does not chain to the line before it (an entry before it was edited, removed or inserted)',
      ]),
    );
    const gap = [...lines.slice(0, 2), ...lines.slice(4)];
    expect(verifyAuditLog(fileText(gap), { publicKey: key.pem, now: at }).problems).toEqual(
      expect.arrayContaining(['line 3: entries 3..4 are missing (removed)']),
    );
  });

  it('a file of no audit entry at all, and a file that begins with another entry than open', async () => {
    const notAudit = verifyAuditLog('{"hello":"world"}\n');
    expect(notAudit.problems).toEqual([
      'line 1: missing seq or prev (not a custos audit entry, or edited)',
      'no line is a custos audit entry',
    ]);
    expect(notAudit.ok).toBe(false);
    const lines = chainOf([{ type: 'request' }]);
    expect(verifyAuditLog(fileText(lines), { now: new Date(START) }).problems[0]).toBe(
      'line 1: the file begins with a request entry (seq 1), not with the open entry every file the server writes begins with: lines before it were cut, or the file was emptied while the server wrote to it',
    );
  });

  it('a file without an open entry announcing the cadence assumes the defaults, and says so', () => {
    const lines = chainOf([{ type: 'open', checkpoint_every: 0, checkpoint_interval_ms: 1.5 }]);
    const report = verifyAuditLog(fileText(lines), { now: new Date(START) });
    expect(report.notes).toEqual([
      'no open entry announces the checkpoint cadence; the defaults were assumed (100 entries, 10 s)',
    ]);
    expect(report.warnings).toEqual([
      'entries 1..1 are chained but not signed yet (the writer signs within 10 s or 100 entries): their content is not authenticated until then, and entries cut from the end would not show',
    ]);
    expect(report.unsigned).toEqual({ from: 1, to: 1 });
  });

  it('an unclosed log ending at a checkpoint: which warning depends on the server record', async () => {
    const { lines, key, at, checkpoints } = await signedLog(2);
    const offline = verifyAuditLog(fileText(lines), { publicKey: key.pem, now: at });
    expect(offline.warnings).toEqual([
      'the log was not closed: it ends at the checkpoint at seq 4. The server may still be writing it, or entries after that checkpoint were cut; the file alone cannot tell (verify with --server)',
    ]);
    const online = verifyAuditLog(fileText(lines), {
      publicKey: key.pem,
      now: at,
      expectedCheckpoint: checkpoints.at(-1) as CheckpointRecord,
    });
    expect(online).toMatchObject({
      ok: true,
      closed: false,
      movedAside: false,
      warnings: ["the log was not closed; it ends at the server's latest checkpoint (seq 4)"],
    });
  });

  it('entry times: exactly the skew ahead or back is accepted, a millisecond more is not', () => {
    const times = (offsets: readonly number[], now: number) => {
      let prev = GENESIS_HASH;
      const lines = offsets.map((offset, i) => {
        // An hour's checkpoint interval: only the times are judged here.
        const fields =
          i === 0
            ? { type: 'open', checkpoint_every: 100, checkpoint_interval_ms: 3_600_000 }
            : { type: 'request' };
        const line = JSON.stringify({
          time: new Date(START + offset).toISOString(),
          seq: i + 1,
          prev,
          ...fields,
        });
        prev = lineHash(line);
        return line;
      });
      return verifyAuditLog(fileText(lines), { now: new Date(START + now) }).problems;
    };
    expect(times([0, DEFAULT_CLOCK_SKEW_MS], 0)).toEqual([]);
    expect(times([0, DEFAULT_CLOCK_SKEW_MS + 1], 0)).toEqual([
      `line 2: time ${new Date(START + DEFAULT_CLOCK_SKEW_MS + 1).toISOString()} is later than the verification time ${new Date(START).toISOString()} by more than the allowed clock skew (300 s): appended or edited, or the server's clock is wrong`,
    ]);
    expect(times([DEFAULT_CLOCK_SKEW_MS, 0], DEFAULT_CLOCK_SKEW_MS)).toEqual([]);
    expect(times([DEFAULT_CLOCK_SKEW_MS + 1, 0], DEFAULT_CLOCK_SKEW_MS + 1)).toEqual([
      `line 2: time ${new Date(START).toISOString()} is earlier than the entry before it (${new Date(START + DEFAULT_CLOCK_SKEW_MS + 1).toISOString()}) by more than the allowed clock skew (300 s): appended or edited, or the server's clock was set back`,
    ]);
  });

  it('a checkpoint with no signature at all is invalid, not an error', async () => {
    const { lines, key, at } = await signedLog(1);
    const unsigned = [...lines];
    const checkpoint = parse(unsigned.at(-1) as string);
    delete checkpoint.signature;
    unsigned[unsigned.length - 1] = JSON.stringify(checkpoint);
    const report = verifyAuditLog(fileText(unsigned), { publicKey: key.pem, now: at });
    expect(report.problems).toEqual([
      'line 3: checkpoint signature is invalid (the checkpoint or the chain before it was changed)',
    ]);
    expect(report).toMatchObject({ lastCheckpointSeq: undefined, unsigned: { from: 1, to: 3 } });
  });

  it('an empty file, and a trusted key that cannot be read', () => {
    expect(verifyAuditLog('')).toMatchObject({
      ok: false,
      problems: [
        'the file is empty: a custos audit log starts with an open entry, so nothing here can be verified (emptied, or not an audit log)',
      ],
    });
    expect(() => verifyAuditLog('', { publicKey: 'not a key' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message:
          'the audit public key given cannot be read: expected an SPKI public key, PEM or DER in base64',
      }),
    );
  });

  const open = (every: number, intervalMs: number) => ({
    type: 'open',
    starts_file: true,
    checkpoint_every: every,
    checkpoint_interval_ms: intervalMs,
  });

  it('a close entry without the checkpoint that follows it', () => {
    const lines = chainOf([open(100, 10_000), { type: 'request' }, { type: 'close' }]);
    expect(verifyAuditLog(fileText(lines), { now: new Date(START + 5000) }).problems).toEqual([
      'the file ends with a close entry (seq 3) without the checkpoint that always follows it: its end was cut',
    ]);
  });

  it('a file continuing an earlier one, begun by an open entry of an older writer', () => {
    const lines = chainOf(
      [{ type: 'open', checkpoint_every: 100, checkpoint_interval_ms: 10_000 }],
      {
        seq: 11,
        prev: lineHash('the last line of the earlier file'),
      },
    );
    const report = verifyAuditLog(fileText(lines), { now: new Date(START) });
    expect(report.ok).toBe(true);
    expect(report.warnings[0]).toBe(
      'line 1: the file begins with an open entry (seq 11) that does not say whether it started the file (an older writer): lines cut before a restart would not show',
    );
    expect(report.notes).toEqual([
      'the chain starts at seq 11, continuing an earlier file; its first link is not checkable here',
    ]);
  });

  it('a checkpoint missing by count, by time, and at the end of the file', () => {
    const byCount = chainOf([
      open(2, 10_000),
      { type: 'request' },
      { type: 'request' },
      { type: 'request' },
    ]);
    expect(verifyAuditLog(fileText(byCount), { now: new Date(START + 5000) }).problems).toEqual([
      'line 3: a checkpoint was due after 2 unsigned entries (seq 1..2), and there is none before seq 3',
    ]);
    const byTime = chainOf([open(100, 1000), { type: 'request' }]);
    expect(verifyAuditLog(fileText(byTime), { now: new Date(START + 1000) }).problems).toEqual([
      'line 2: a checkpoint was due by 2026-01-01T00:00:01.000Z (1 s after seq 1), and there is none before seq 2',
    ]);
    const atEnd = chainOf([open(100, 1000)]);
    expect(verifyAuditLog(fileText(atEnd), { now: new Date(START + 60_000) }).problems).toEqual([
      'a checkpoint was due by 2026-01-01T00:00:01.000Z (1 s after seq 1), and the file ends unsigned at seq 1: the file was cut, or the server stopped without closing the log (a crash)',
    ]);
  });
});
