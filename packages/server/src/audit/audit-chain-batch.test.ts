import { verify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { memorySink, signer } from '../../test/audit.js';
import {
  ChainedSink,
  type CheckpointRecord,
  checkpointMessage,
  GENESIS_HASH,
  lineHash,
  SerializedEntry,
} from './audit-chain.js';
import type { FileStart } from './audit-continuity.js';
import { SinkNameClash } from './audit-sink-owner.js';
import type { AuditSink } from './sinks.js';

// The writer's group commit and checkpoint cadence, write by write: what each write carries,
// when its entries are acknowledged, what a failed write leaves behind, and what each
// checkpoint line and record holds.

const START = Date.parse('2026-01-01T00:00:00.000Z');

const parsed = (lines: readonly string[]) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const types = (lines: readonly string[]) => parsed(lines).map((e) => e.type);
const seqs = (text: string) => parsed(text.split('\n')).map((e) => e.seq);

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejected before the write awaits it
  return { promise, resolve, reject };
}

/**
 * An in-memory sink whose writes the test holds (`hold()`: the next write waits for the
 * returned gate) and records: `writes` is the text of every write that succeeded.
 */
function gatedSink() {
  const lines: string[] = [];
  const writes: string[] = [];
  const attempts: string[] = [];
  let gate: ReturnType<typeof deferred> | undefined;
  const sink: AuditSink & { lines: string[] } = {
    ...memorySink(lines),
    write: async (text) => {
      attempts.push(text);
      const held = gate;
      gate = undefined;
      if (held !== undefined) await held.promise;
      writes.push(text);
      lines.push(...text.split('\n'));
    },
  };
  return {
    sink,
    lines,
    writes,
    attempts,
    hold: () => {
      gate = deferred();
      return gate;
    },
  };
}

/** Settles to 'resolved' or the rejection's message, and records when it did. */
function watch(promise: Promise<void>) {
  const state: { settled?: string } = {};
  promise.then(
    () => {
      state.settled = 'resolved';
    },
    (err: Error) => {
      state.settled = err.message;
    },
  );
  return state;
}

describe('group commit', () => {
  it('entries appended in one turn go out in one write, acknowledged only once it succeeded', async () => {
    const { sink, writes, attempts, hold } = gatedSink();
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    expect(writes).toHaveLength(1);
    const gate = hold();
    const batch = [1, 2, 3].map((n) => watch(chain.append({ type: 'request', n })));
    await vi.waitFor(() => expect(attempts).toHaveLength(2));
    expect(seqs(attempts[1] as string)).toEqual([2, 3, 4]);
    // Entries queued while that write is in flight wait for it, and go out together after it.
    const later = [4, 5].map((n) => watch(chain.append({ type: 'request', n })));
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toHaveLength(2);
    expect([...batch, ...later].map((s) => s.settled)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    gate.resolve();
    await vi.waitFor(() => expect(later.map((s) => s.settled)).toEqual(['resolved', 'resolved']));
    expect(batch.map((s) => s.settled)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(writes.map(seqs)).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('a failed write rejects every entry of its batch, and nothing later claims their seq or their place in the count', async () => {
    const { sink, lines, attempts, hold } = gatedSink();
    const records: CheckpointRecord[] = [];
    const chain = new ChainedSink(sink, {
      signer: signer(),
      checkpointEvery: 3,
      onCheckpoint: (r) => records.push(r),
    });
    await chain.open();
    const gate = hold();
    const failed = [1, 2, 3].map((n) => watch(chain.append({ type: 'request', n })));
    await vi.waitFor(() => expect(attempts).toHaveLength(2));
    // open, 2 requests, the checkpoint due after 3 entries, 1 request: all in that write.
    expect(types((attempts[1] as string).split('\n'))).toEqual([
      'request',
      'request',
      'checkpoint',
      'request',
    ]);
    gate.reject(new Error('disk full'));
    await vi.waitFor(() =>
      expect(failed.map((s) => s.settled)).toEqual(['disk full', 'disk full', 'disk full']),
    );
    expect(records).toEqual([]);
    // The chain goes on from the last line written: seq 2 again, chained to the open entry,
    // and the count of unsigned entries as it was (one, the open entry).
    await chain.append({ type: 'request', n: 4 });
    expect(parsed(lines)[1]).toMatchObject({ seq: 2, prev: lineHash(lines[0] as string), n: 4 });
    expect(types(lines)).toEqual(['open', 'request']);
    await chain.append({ type: 'request', n: 5 });
    expect(types(lines)).toEqual(['open', 'request', 'request', 'checkpoint']);
    expect(records.map((r) => r.seq)).toEqual([4]);
  });

  it('a failed write of entries only does not announce the chain again', async () => {
    const { sink, lines, hold } = gatedSink();
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    hold().reject(new Error('disk full'));
    await expect(chain.append({ type: 'request', n: 1 })).rejects.toThrow('disk full');
    await chain.append({ type: 'request', n: 2 });
    expect(types(lines)).toEqual(['open', 'request']);
    expect(parsed(lines)[1]).toMatchObject({ seq: 2, n: 2 });
  });

  it('counts the writes in flight against the queue limit, and frees them when a write fails', async () => {
    const { sink, attempts, hold } = gatedSink();
    const chain = new ChainedSink({ ...sink, name: 'slow' }, { signer: signer(), maxQueued: 3 });
    const gate = hold();
    const inFlight = [1, 2].map((n) => watch(chain.append({ type: 'request', n })));
    await vi.waitFor(() => expect(attempts).toHaveLength(1));
    const queued = watch(chain.append({ type: 'request', n: 3 }));
    await expect(chain.append({ type: 'request', n: 4 })).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
      message: 'audit sink slow is stuck',
    });
    gate.reject(new Error('disk full'));
    await vi.waitFor(() => expect(queued.settled).toBe('resolved'));
    expect(inFlight.map((s) => s.settled)).toEqual(['disk full', 'disk full']);
    // Nothing in flight any more: the limit is the whole queue again.
    const next = hold();
    const three = [5, 6, 7].map((n) => watch(chain.append({ type: 'request', n })));
    await vi.waitFor(() => expect(attempts).toHaveLength(3));
    expect(seqs(attempts[2] as string)).toEqual([2, 3, 4]);
    next.resolve();
    await vi.waitFor(() =>
      expect(three.map((s) => s.settled)).toEqual(['resolved', 'resolved', 'resolved']),
    );
  });
});

describe('checkpoint lines', () => {
  /** open + `requests` requests then an explicit checkpoint, 1 ms apart, one every 3 entries. */
  async function log(requests: number) {
    const key = signer();
    const { sink, lines, writes } = gatedSink();
    const records: CheckpointRecord[] = [];
    let t = START;
    const chain = new ChainedSink(sink, {
      signer: key,
      checkpointEvery: 3,
      now: () => new Date(t++),
      onCheckpoint: (r) => records.push(r),
    });
    await chain.open();
    for (let i = 0; i < requests; i++) await chain.append({ type: 'request', n: i });
    await chain.checkpoint();
    return { key, lines, writes, records, chain };
  }

  it('follow every Nth unsigned entry, and an explicit checkpoint signs the rest', async () => {
    const { lines, chain } = await log(6);
    expect(types(lines)).toEqual([
      'open',
      'request',
      'request',
      'checkpoint',
      'request',
      'request',
      'request',
      'checkpoint',
      'request',
      'checkpoint',
    ]);
    expect(parsed(lines).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Nothing unsigned is left: another checkpoint writes nothing.
    await chain.checkpoint();
    expect(lines).toHaveLength(10);
  });

  it('each signs the fixed message over its own sink, seq, prev and time, and is recorded with its hash', async () => {
    const { key, lines, records } = await log(6);
    const entries = parsed(lines);
    const checkpoints = entries.flatMap((e, i) => (e.type === 'checkpoint' ? [i] : []));
    expect(checkpoints).toEqual([3, 7, 9]);
    for (const i of checkpoints) {
      const entry = entries[i] as Record<string, unknown>;
      expect(Object.keys(entry)).toEqual([
        'time',
        'seq',
        'prev',
        'type',
        'sink',
        'key_id',
        'signature',
      ]);
      expect(entry).toMatchObject({
        seq: i + 1,
        prev: lineHash(lines[i - 1] as string),
        sink: 'file',
        key_id: key.keyId,
      });
      const message = checkpointMessage('file', i + 1, entry.prev as string, entry.time as string);
      expect(verify(null, message, key.pem, Buffer.from(entry.signature as string, 'base64'))).toBe(
        true,
      );
    }
    expect(records).toEqual(
      checkpoints.map((i) => ({
        sink: 'file',
        seq: i + 1,
        hash: lineHash(lines[i] as string),
        time: entries[i]?.time,
      })),
    );
  });

  it('an entry given serialised that calls itself a checkpoint is counted, not taken as signed', async () => {
    const { sink, lines } = gatedSink();
    const records: CheckpointRecord[] = [];
    const chain = new ChainedSink(sink, {
      signer: signer(),
      checkpointEvery: 2,
      onCheckpoint: (r) => records.push(r),
    });
    await chain.open();
    await chain.append(new SerializedEntry('checkpoint', '{"type":"checkpoint","n":1}'));
    expect(types(lines)).toEqual(['open', 'checkpoint', 'checkpoint']);
    expect(parsed(lines)[1]).not.toHaveProperty('signature');
    expect(records.map((r) => r.seq)).toEqual([3]);
  });

  it('a restart counts its entries from its own open entry', async () => {
    const lines: string[] = [];
    const options = { signer: signer(), checkpointEvery: 3 };
    const first = new ChainedSink(memorySink(lines), options);
    await first.open();
    await first.append({ type: 'request', n: 1 });
    await first.append({ type: 'request', n: 2 }); // then the process stops: no close
    const restarted = new ChainedSink(memorySink(lines), options);
    await restarted.open();
    await restarted.append({ type: 'request', n: 3 });
    await restarted.append({ type: 'request', n: 4 });
    expect(types(lines)).toEqual([
      'open',
      'request',
      'request',
      'checkpoint',
      'open',
      'request',
      'request',
      'checkpoint',
    ]);
    expect(parsed(lines)[4]).toMatchObject({ seq: 5, prev: lineHash(lines[3] as string) });
  });

  it('are due the interval after the first unsigned entry, not after the latest one', async () => {
    const key = signer();
    const { sink, lines } = gatedSink();
    const times = [0, 6_000, 10_000, 12_000, 19_999, 20_000];
    const chain = new ChainedSink(sink, {
      signer: key,
      checkpointEvery: 100,
      checkpointIntervalMs: 10_000,
      now: () => new Date(START + (times.shift() as number)),
    });
    await chain.open(); // at 0
    await chain.append({ type: 'request', n: 1 }); // at 6 s
    await chain.append({ type: 'request', n: 2 }); // at 10 s: signed before it
    await chain.append({ type: 'request', n: 3 }); // at 12 s
    await chain.append({ type: 'request', n: 4 }); // at 19.999 s: 9.999 s after n 2
    expect(types(lines)).toEqual([
      'open',
      'request',
      'checkpoint',
      'request',
      'request',
      'request',
    ]);
    expect(parsed(lines)[2]?.time).toBe(new Date(START + 10_000).toISOString());
  });

  it('a close entry is signed at once, whatever the count', async () => {
    const { sink, lines } = gatedSink();
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    await chain.append({ type: 'request' });
    await chain.close();
    expect(types(lines)).toEqual(['open', 'request', 'close', 'checkpoint']);
    expect(parsed(lines)[2]).toEqual({
      time: expect.any(String),
      seq: 3,
      prev: lineHash(lines[1] as string),
      type: 'close',
      sink: 'file',
    });
  });
});

describe('file starts as the writer reports them', () => {
  it('the first write into an empty file reports its first line once; later writes report nothing', async () => {
    const { sink, lines } = gatedSink();
    const starts: FileStart[] = [];
    const chain = new ChainedSink(sink, {
      signer: signer(),
      checkpointEvery: 2,
      onFileStart: (s) => starts.push(s),
    });
    await chain.open();
    await chain.append({ type: 'request', n: 1 });
    await chain.append({ type: 'request', n: 2 });
    await chain.close();
    expect(starts).toEqual([
      {
        seq: 1,
        hash: lineHash(lines[0] as string),
        time: parsed(lines)[0]?.time,
        previous: null,
        cause: 'start',
      },
    ]);
    expect(parsed(lines)[0]).toMatchObject({ seq: 1, prev: GENESIS_HASH, starts_file: true });
  });

  it('a sink that cannot tell (no startsFile) never reports a start', async () => {
    const { sink, lines } = gatedSink();
    const { startsFile: _, ...blind } = sink;
    const starts: FileStart[] = [];
    const chain = new ChainedSink(blind, { signer: signer(), onFileStart: (s) => starts.push(s) });
    await chain.open();
    await chain.append({ type: 'request' });
    expect(starts).toEqual([]);
    expect(parsed(lines)[0]).toMatchObject({ type: 'open', starts_file: false });
  });
});

describe('refusal', () => {
  it('a fresh chain is not refused: no reason, no code', () => {
    const chain = new ChainedSink(memorySink(), { signer: signer() });
    expect(chain.refusal).toBeUndefined();
    expect(chain.refusalCode).toBeUndefined();
  });

  it('a name clash refuses every later write with that error, keeps the first, and no new file lifts it', async () => {
    const { sink, lines } = gatedSink();
    const chain = new ChainedSink(sink, { signer: signer() });
    await chain.open();
    const clash = new SinkNameClash('file', 'node-b writes it');
    chain.refuse(clash);
    chain.refuse(new SinkNameClash('file', 'node-c writes it'));
    expect(chain.refusal).toBe('node-b writes it');
    expect(chain.refusalCode).toBe('ERR_AUDIT_SINK_NAME_CLASH');
    await expect(chain.append({ type: 'request' })).rejects.toBe(clash);
    await expect(chain.startNewFile(null, [])).rejects.toBe(clash);
    expect(chain.refusal).toBe('node-b writes it');
    await expect(chain.append({ type: 'request' })).rejects.toBe(clash);
    await chain.close();
    expect(types(lines)).toEqual(['open']);
  });

  it('entries waiting behind a write in flight when the sink is refused are never written', async () => {
    const { sink, lines, attempts, hold } = gatedSink();
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    const gate = hold();
    const inFlight = watch(chain.append({ type: 'request', n: 1 }));
    await vi.waitFor(() => expect(attempts).toHaveLength(2));
    const waiting = [2, 3].map((n) => watch(chain.append({ type: 'request', n })));
    const clash = new SinkNameClash('file', 'node-b writes it');
    chain.refuse(clash);
    gate.resolve();
    await vi.waitFor(() =>
      expect(waiting.map((s) => s.settled)).toEqual([clash.message, clash.message]),
    );
    expect(inFlight.settled).toBe('resolved');
    expect(types(lines)).toEqual(['open', 'request']);
  });

  it('a refused sink answers with its refusal even while its queue is full', async () => {
    const { sink, attempts, hold } = gatedSink();
    const chain = new ChainedSink({ ...sink, name: 'slow' }, { signer: signer(), maxQueued: 2 });
    const gate = hold();
    const inFlight = [1, 2].map((n) => watch(chain.append({ type: 'request', n })));
    await vi.waitFor(() => expect(attempts).toHaveLength(1));
    const clash = new SinkNameClash('slow', 'node-b writes it');
    chain.refuse(clash);
    // The reason is the refusal, not the full queue: an operator is told what to do.
    await expect(chain.append({ type: 'request', n: 3 })).rejects.toBe(clash);
    gate.resolve();
    await vi.waitFor(() =>
      expect(inFlight.map((s) => s.settled)).toEqual(['resolved', 'resolved']),
    );
  });

  it('a new file is refused, with the reason and what to do, for a sink that was not refused', async () => {
    const chain = new ChainedSink(memorySink(), { signer: signer() });
    await chain.open();
    await expect(chain.startNewFile(null, [])).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message:
        'audit sink file was not refused: it continues its chain (to start a new file, move the file and send SIGHUP)',
    });
  });
});

describe('serialised entries', () => {
  it('are refused with the reason unless a JSON object beginning with its type', () => {
    expect(() => new SerializedEntry('request', '{"type":"request"')).toThrow(
      new TypeError('a serialised audit entry is a JSON object beginning with its type'),
    );
    expect(new SerializedEntry('request', '{"type":"request"}')).toEqual({
      type: 'request',
      json: '{"type":"request"}',
    });
  });
});
