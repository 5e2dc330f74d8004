import { createSecretKey } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memorySink, signer } from '../../test/audit.js';
import {
  ChainedSink,
  checkpointMessage,
  GENESIS_HASH,
  lineHash,
  SerializedEntry,
} from './audit-chain.js';
import { hmacScalars } from './hmac-values.js';
import type { AuditSink } from './sinks.js';

// The writer's side of the chain, line by line: what an open entry announces, the signed
// checkpoint format, the timer that signs a quiet log, and the queue bound.

const START = Date.parse('2026-01-01T00:00:00.000Z');
const parsed = (lines: readonly string[]) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the audit chain writer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a checkpoint signs a fixed text: format version, sink, seq, prev and time, one per line', () => {
    expect(checkpointMessage('file', 12, 'ab12', '2026-01-01T00:00:00.000Z').toString()).toBe(
      'custos-audit-checkpoint/v1\nfile\n12\nab12\n2026-01-01T00:00:00.000Z',
    );
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(lineHash('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('announces its key and cadence in the open entry; only the first line of a file starts it', async () => {
    const key = signer();
    const lines: string[] = [];
    let t = START;
    const options = {
      signer: key,
      checkpointEvery: 7,
      checkpointIntervalMs: 9_000,
      now: () => new Date(t++),
    };
    const first = new ChainedSink(memorySink(lines), options);
    await first.open();
    await first.append({ type: 'request' });
    await first.close();
    const restarted = new ChainedSink(memorySink(lines), options);
    await restarted.open();
    const entries = parsed(lines);
    expect(entries[0]).toEqual({
      time: new Date(START).toISOString(),
      seq: 1,
      prev: GENESIS_HASH,
      type: 'open',
      sink: 'file',
      key_id: key.keyId,
      public_key: key.publicKey,
      checkpoint_every: 7,
      checkpoint_interval_ms: 9_000,
      starts_file: true,
    });
    expect(entries.map((e) => e.type)).toEqual(['open', 'request', 'close', 'checkpoint', 'open']);
    expect(entries[2]).toMatchObject({ type: 'close', sink: 'file' });
    expect(entries[3]).toMatchObject({ sink: 'file', key_id: key.keyId });
    expect(entries[4]).toMatchObject({
      seq: 5,
      prev: lineHash(lines[3] as string),
      starts_file: false,
    });
  });

  /** A chain on fake timers, signed by its 10 s timer (the 100-entry count never comes). */
  const timedChain = () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sink = memorySink();
    const chain = new ChainedSink(sink, {
      signer: signer(),
      checkpointEvery: 100,
      checkpointIntervalMs: 10_000,
    });
    return { sink, chain };
  };

  it('a quiet log is signed by the timer when the interval has passed, not before', async () => {
    const { sink, chain } = timedChain();
    await chain.open();
    await chain.append({ type: 'request' });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(parsed(sink.lines).map((e) => e.type)).toEqual(['open', 'request']);
    await vi.advanceTimersByTimeAsync(1);
    expect(parsed(sink.lines).map((e) => e.type)).toEqual(['open', 'request', 'checkpoint']);
    // Nothing unsigned since: no timer, no further checkpoint.
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sink.lines).toHaveLength(3);
  });

  it('a checkpoint or close cancels the pending timer; nothing is signed twice', async () => {
    const { sink, chain } = timedChain();
    await chain.open();
    await chain.checkpoint();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(parsed(sink.lines).map((e) => e.type)).toEqual(['open', 'checkpoint']);
  });

  it('queues up to 1000 writes behind a stuck sink by default, and refuses the next at once', async () => {
    const stuck: AuditSink = {
      name: 'stuck',
      write: () => new Promise(() => {}),
      close: async () => {},
    };
    const chain = new ChainedSink(stuck, { signer: signer() });
    const refused: unknown[] = [];
    for (let i = 0; i < 1000; i++)
      chain.append({ type: 'request', n: i }).catch((err) => refused.push(err));
    await new Promise((resolve) => setImmediate(resolve));
    expect(refused).toEqual([]);
    await expect(chain.append({ type: 'request' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
      message: 'audit sink stuck is stuck',
    });
  });

  it('a sink that cannot be read back is refused with the reason, and stays refused', async () => {
    const unreadable: AuditSink = {
      name: 'file',
      write: async () => {},
      history: async () => {
        throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      },
      close: async () => {},
    };
    const chain = new ChainedSink(unreadable, { signer: signer() });
    const reason = 'the file could not be read back to check its chain (EACCES)';
    await expect(chain.open()).rejects.toMatchObject({
      code: 'ERR_AUDIT_CHAIN_BROKEN',
      message: `audit sink file refused: ${reason}`,
    });
    expect(chain.refusal).toBe(reason);
    await expect(chain.append({ type: 'request' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_CHAIN_BROKEN',
    });
    await expect(chain.reopen()).rejects.toMatchObject({ code: 'ERR_AUDIT_CHAIN_BROKEN' });
  });

  it('a refused sink is closed without a close entry; a new file from genesis starts a new chain', async () => {
    const lines: string[] = [];
    let closed = 0;
    const sink: AuditSink = {
      ...memorySink(lines),
      history: async () => {
        throw new Error('unreadable');
      },
      close: async () => {
        closed++;
      },
    };
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await expect(chain.open()).rejects.toMatchObject({
      message:
        'audit sink file refused: the file could not be read back to check its chain (unreadable)',
    });
    await chain.startNewFile(null, [{ type: 'request', n: 1 }]);
    const entries = parsed(lines);
    expect(entries[0]).toMatchObject({
      seq: 1,
      prev: GENESIS_HASH,
      type: 'open',
      new_file: {
        previous_checkpoint: null,
        refused: 'the file could not be read back to check its chain (unreadable)',
      },
    });
    expect(entries[1]).toMatchObject({ seq: 2, type: 'request', n: 1 });
    await chain.close();
    expect(closed).toBe(1);
    expect(parsed(lines).at(-2)).toMatchObject({ type: 'close' });

    const refusedAgain = new ChainedSink(sink, { signer: signer() });
    await refusedAgain.open().catch(() => {});
    const before = lines.length;
    await refusedAgain.close();
    expect(lines).toHaveLength(before);
    expect(closed).toBe(2);
  });
});

describe('entries given already serialised', () => {
  it('are written as the same bytes as the entry given as an object', async () => {
    const fields = {
      type: 'response',
      auth: null,
      request: { id: 'r1', path: 'secret/data/a', data: JSON.parse('{"__proto__":"x","n":"é"}') },
      response: { status: 200 },
    };
    const key = signer();
    const write = async (entry: Record<string, unknown> | SerializedEntry) => {
      const lines: string[] = [];
      const chain = new ChainedSink(memorySink(lines), {
        signer: key,
        now: () => new Date(START),
      });
      await chain.open();
      await chain.append(entry);
      return lines;
    };
    const asObject = await write(JSON.parse(JSON.stringify(fields)));
    const asText = await write(new SerializedEntry('response', JSON.stringify(fields)));
    expect(asText).toHaveLength(2);
    expect(asText[1]).toContain('"data":{"__proto__":"x","n":"é"}');
    expect(asText).toEqual(asObject);
    expect(JSON.parse(asText[1] as string)).toMatchObject({ seq: 2, type: 'response' });
  });

  it('must be a JSON object that begins with its type', () => {
    expect(() => new SerializedEntry('request', '{"auth":null}')).toThrow(TypeError);
    expect(() => new SerializedEntry('request', '{"type":"response"}')).toThrow(TypeError);
    expect(() => new SerializedEntry('request', '{"type":"request"')).toThrow(TypeError);
  });
});

describe("HMAC'd audit values", () => {
  it('leave out what JSON leaves out: undefined, functions and symbols (null in arrays)', () => {
    const key = createSecretKey(Buffer.alloc(32, 1));
    expect(hmacScalars(key, undefined)).toBeUndefined();
    expect(hmacScalars(key, null)).toBeNull();
    expect(hmacScalars(key, () => 1)).toBeUndefined();
    expect(hmacScalars(key, Symbol('x'))).toBeUndefined();
    expect(hmacScalars(key, { f: () => 1, s: Symbol('x'), u: undefined, n: null })).toEqual({
      n: null,
    });
    expect(hmacScalars(key, [() => 1, Symbol('x'), undefined, null])).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});
