import { describe, expect, it } from 'vitest';
import { fileText, memoryHistory, memorySink, signer } from '../../test/audit.js';
import { ChainedSink, type CheckpointRecord } from './audit-chain.js';
import { LATE_CHECKPOINT_GRACE_MS, verifyAuditLog } from './audit-verify.js';

const START = Date.parse('2026-01-01T00:00:00.000Z');
const INTERVAL_MS = 10_000;

/** A clock the test moves: each reading is 1 ms after the previous one unless moved further. */
function testClock() {
  let t = START;
  return {
    now: () => new Date(t++),
    advance: (ms: number) => {
      t += ms;
    },
    at: () => new Date(t),
  };
}

/**
 * open, 12 requests, close, with a checkpoint every 5 entries. Lines (seq = line):
 * 1 open, 2-5 requests, 6 checkpoint, 7-11 requests, 12 checkpoint, 13-15 requests,
 * 16 close, 17 checkpoint.
 */
async function closedLog() {
  const key = signer();
  const sink = memorySink();
  const clock = testClock();
  const checkpoints: CheckpointRecord[] = [];
  const chain = new ChainedSink(sink, {
    signer: key,
    checkpointEvery: 5,
    checkpointIntervalMs: INTERVAL_MS,
    now: clock.now,
    onCheckpoint: (c) => checkpoints.push(c),
  });
  await chain.open();
  for (let i = 0; i < 12; i++) await chain.append({ type: 'request', n: i });
  await chain.close();
  const types = sink.lines.map((l) => JSON.parse(l).type as string);
  return { key, lines: sink.lines, types, clock, checkpoints };
}

/** The first `count` lines, as a file cut at a line boundary. */
const firstLines = (lines: readonly string[], count: number) => fileText(lines.slice(0, count));

describe('audit verification of a file cut at a line boundary (offline)', () => {
  it('a closed log verifies as closed, every entry signed', async () => {
    const { lines, types, key, clock } = await closedLog();
    expect(types.filter((t) => t === 'checkpoint')).toHaveLength(3);
    expect(types.slice(-2)).toEqual(['close', 'checkpoint']);
    const report = verifyAuditLog(fileText(lines), { publicKey: key.pem, now: clock.at() });
    expect(report).toMatchObject({
      ok: true,
      problems: [],
      warnings: [],
      closed: true,
      firstSeq: 1,
      lastSeq: 17,
      lastCheckpointSeq: 17,
      unsigned: undefined,
    });
  });

  it('an empty file is a problem: there is nothing to verify', () => {
    const report = verifyAuditLog('');
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/the file is empty/);
  });

  it('cut before the checkpoint that follows close: detected', async () => {
    const { lines, key, clock } = await closedLog();
    const report = verifyAuditLog(firstLines(lines, 16), { publicKey: key.pem, now: clock.at() });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/ends with a close entry \(seq 16\) without/);
  });

  it('cut before a checkpoint that was due after N entries: detected, even with no checkpoint left at all', async () => {
    const { lines, key, clock } = await closedLog();
    const cut = verifyAuditLog(firstLines(lines, 11), { publicKey: key.pem, now: clock.at() });
    expect(cut.ok).toBe(false);
    expect(cut.problems.join('\n')).toMatch(
      /checkpoint was due after 5 unsigned entries \(seq 7..11\)/,
    );
    expect(cut.unsigned).toEqual({ from: 7, to: 11 });
    const none = verifyAuditLog(firstLines(lines, 5), { publicKey: key.pem, now: clock.at() });
    expect(none.ok).toBe(false);
    expect(none.lastCheckpointSeq).toBeUndefined();
    expect(none.problems.join('\n')).toMatch(/due after 5 unsigned entries \(seq 1..5\)/);
  });

  it('cut inside the unsigned end: a warning while it is young, a problem once its checkpoint is overdue', async () => {
    const { lines, key, clock } = await closedLog();
    const text = firstLines(lines, 14); // requests at seq 13 and 14, unsigned
    const young = verifyAuditLog(text, { publicKey: key.pem, now: clock.at() });
    expect(young.ok).toBe(true);
    expect(young.unsigned).toEqual({ from: 13, to: 14 });
    expect(young.lastCheckpointSeq).toBe(12);
    expect(young.warnings.join('\n')).toMatch(/entries 13..14 are chained but not signed yet/);
    const firstUnsigned = Date.parse(JSON.parse(lines[12] as string).time);
    // Past the interval but within the grace a late timer gets: still only a warning.
    const late = verifyAuditLog(text, {
      publicKey: key.pem,
      now: new Date(firstUnsigned + INTERVAL_MS + LATE_CHECKPOINT_GRACE_MS / 2),
    });
    expect(late.ok).toBe(true);
    expect(late.warnings.join('\n')).toMatch(/entries 13..14 are chained but not signed yet/);
    const overdue = verifyAuditLog(text, {
      publicKey: key.pem,
      now: new Date(firstUnsigned + INTERVAL_MS + LATE_CHECKPOINT_GRACE_MS),
    });
    expect(overdue.ok).toBe(false);
    expect(overdue.problems.join('\n')).toMatch(
      /checkpoint was due by .* \(10 s after seq 13\), and the file ends unsigned at seq 14: the file was cut, or the server stopped without closing the log/,
    );
  });

  it("cut right after a checkpoint: not provable offline (a warning says so); the server's latest checkpoint proves it", async () => {
    const { lines, key, clock, checkpoints } = await closedLog();
    const text = firstLines(lines, 12);
    const offline = verifyAuditLog(text, { publicKey: key.pem, now: clock.at() });
    expect(offline).toMatchObject({ ok: true, closed: false, lastCheckpointSeq: 12 });
    expect(offline.warnings.join('\n')).toMatch(/not closed: it ends at the checkpoint at seq 12/);
    const online = verifyAuditLog(text, {
      publicKey: key.pem,
      now: clock.at(),
      expectedCheckpoint: checkpoints.at(-1) as CheckpointRecord,
    });
    expect(online.ok).toBe(false);
    expect(online.problems.join('\n')).toMatch(/latest checkpoint \(seq 17\) is not in the file/);
  });

  it('the writer signs within the interval even under steady traffic, and the verifier holds it to that', async () => {
    const key = signer();
    const sink = memorySink();
    const clock = testClock();
    const chain = new ChainedSink(sink, {
      signer: key,
      checkpointEvery: 1000,
      checkpointIntervalMs: INTERVAL_MS,
      now: clock.now,
    });
    await chain.open();
    for (let i = 0; i < 30; i++) {
      clock.advance(1_000);
      await chain.append({ type: 'request', n: i });
    }
    await chain.close();
    const entries = sink.lines.map((l) => JSON.parse(l) as { type: string; time: string });
    // No entry is T or more after the first unsigned one without a checkpoint between.
    let first: number | undefined;
    for (const e of entries) {
      if (e.type === 'checkpoint') first = undefined;
      else {
        first ??= Date.parse(e.time);
        expect(Date.parse(e.time) - first).toBeLessThan(INTERVAL_MS);
      }
    }
    expect(entries.filter((e) => e.type === 'checkpoint').length).toBeGreaterThanOrEqual(3);
    expect(
      verifyAuditLog(fileText(sink.lines), { publicKey: key.pem, now: clock.at() }),
    ).toMatchObject({ ok: true, closed: true });
    // Announcing a longer cadence is an edit: the chain breaks at the open entry.
    const edited = [...sink.lines];
    edited[0] = (edited[0] as string).replace(
      '"checkpoint_interval_ms":10000',
      '"checkpoint_interval_ms":60000',
    );
    expect(verifyAuditLog(fileText(edited), { publicKey: key.pem }).problems.join('\n')).toMatch(
      /line 2: does not chain/,
    );
  });

  it('a restart after a crash continues the chain, with a warning about the entries the crashed server never signed', async () => {
    const key = signer();
    const lines: string[] = [];
    const clock = testClock();
    const options = {
      signer: key,
      checkpointEvery: 100,
      checkpointIntervalMs: INTERVAL_MS,
      now: clock.now,
    };
    const crashed = new ChainedSink(memorySink(lines), options);
    await crashed.open();
    await crashed.append({ type: 'request', n: 1 });
    await crashed.append({ type: 'request', n: 2 }); // then killed: no close, no checkpoint
    clock.advance(60_000);
    const restarted = new ChainedSink(memorySink(lines), options);
    await restarted.open();
    await restarted.append({ type: 'request', n: 3 });
    await restarted.close();
    const report = verifyAuditLog(fileText(lines), { publicKey: key.pem, now: clock.at() });
    expect(report).toMatchObject({ ok: true, closed: true, lastCheckpointSeq: 7 });
    expect(report.warnings.join('\n')).toMatch(
      /line 4: the server restarted at seq 4 after entries 1..3, which the server that wrote them never signed/,
    );
  });

  it('log rotation: the old file ends at a checkpoint, the new one starts with an open entry', async () => {
    const key = signer();
    const files: string[][] = [[]];
    const sink = {
      ...memorySink(),
      write: async (text: string) => {
        files.at(-1)?.push(...text.split('\n'));
      },
      history: async () => memoryHistory(files.at(-1) ?? []),
      startsFile: async () => files.at(-1)?.length === 0,
      reopen: async () => {
        files.push([]);
      },
    };
    const clock = testClock();
    const chain = new ChainedSink(sink, { signer: key, checkpointEvery: 100, now: clock.now });
    await chain.open();
    await chain.append({ type: 'request', n: 1 });
    await chain.reopen();
    await chain.append({ type: 'request', n: 2 });
    await chain.close();
    const [old, current] = files.map((f) =>
      verifyAuditLog(fileText(f), { publicKey: key.pem, now: clock.at() }),
    );
    expect(old).toMatchObject({ ok: true, lastCheckpointSeq: 3, lastSeq: 3, unsigned: undefined });
    expect(current).toMatchObject({ ok: true, closed: true, firstSeq: 4 });
    expect(current?.notes.join('\n')).toMatch(/continuing an earlier file/);
    expect(JSON.parse(files[1]?.[0] as string).type).toBe('open');
  });
});
