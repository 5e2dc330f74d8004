import { describe, expect, it, vi } from 'vitest';
import { fileText, memoryHistory, signer } from '../../test/audit.js';
import { ChainedSink, lineHash } from './audit-chain.js';
import type { FileStart } from './audit-continuity.js';
import { SinkNameClash } from './audit-sink-owner.js';
import { verifyAuditLog } from './audit-verify.js';
import type { RotatedFile } from './rotated-files.js';
import type { AuditSink } from './sinks.js';

// The writer's side of rotation and retention on an in-memory sink that logs every call, so
// their order is visible: a rotation signs the old file's end, moves it aside, then opens the
// new one before any waiting entry; a retention entry is written before its file is removed.

const START = Date.parse('2026-01-01T00:00:00.000Z');

const parsed = (lines: readonly string[]) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const types = (lines: readonly string[]) => parsed(lines).map((e) => e.type);

interface Options {
  /** Whether a file of this many lines is due to rotate (no rotation when absent). */
  readonly rotateWhen?: (lines: number) => boolean;
  /** Rotated files past the retention, as `expired()` lists them. */
  readonly expired?: RotatedFile[];
  /** A write whose text contains this fails once. */
  readonly failWriteOf?: string;
}

/**
 * A file sink in memory: `files` holds every file, the current one last; `calls` logs every
 * write (the types of its lines), rotation check, rotation, listing and removal, in order.
 */
function rotatingSink(options: Options = {}) {
  const files: string[][] = [[]];
  const calls: string[] = [];
  const expired = [...(options.expired ?? [])];
  let failWriteOf = options.failWriteOf;
  let gate: Promise<void> | undefined;
  /** Writes that waited (or wait) for a held gate. */
  const waiting: string[] = [];
  const current = () => files.at(-1) as string[];
  const sink: AuditSink = {
    name: 'file',
    write: async (text) => {
      const held = gate;
      gate = undefined;
      if (held !== undefined) {
        waiting.push(text);
        await held;
      }
      if (failWriteOf !== undefined && text.includes(failWriteOf)) {
        failWriteOf = undefined;
        calls.push('write failed');
        throw new Error('disk full');
      }
      const lines = text.split('\n');
      calls.push(`write ${types(lines).join(',')}`);
      current().push(...lines);
    },
    history: async () => memoryHistory(current()),
    startsFile: async () => current().length === 0,
    close: async () => {
      calls.push('close');
    },
    ...(options.rotateWhen === undefined
      ? {}
      : {
          rotationDue: async () => {
            calls.push('due?');
            return options.rotateWhen?.(current().length) === true;
          },
          rotate: async () => {
            calls.push('rotate');
            files.push([]);
            return `file.${files.length - 1}`;
          },
        }),
    expired: async () => {
      calls.push('expired');
      return expired.splice(0);
    },
    remove: async (file) => {
      calls.push(`remove ${file.name}`);
    },
  };
  /** The next write waits until the returned function is called. */
  const hold = () => {
    let release!: () => void;
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return release;
  };
  return { sink, files, calls, hold, waiting };
}

const rotated = (name: string, firstSeq: number, lastSeq: number): RotatedFile => ({
  path: `/var/log/custos/${name}`,
  name,
  firstSeq,
  lastSeq,
  lastHash: lineHash(name),
  lastTime: new Date(START - 1000).toISOString(),
});

/** A chain over `sink` that collects its failures in `errors`, opened, with one request written. */
async function openWithRequest(sink: AuditSink) {
  const errors: Error[] = [];
  const chain = new ChainedSink(sink, {
    signer: signer(),
    checkpointEvery: 100,
    onError: (e) => errors.push(e),
  });
  await chain.open();
  await chain.append({ type: 'request', n: 1 });
  return { chain, errors };
}

describe('rotation by the writer', () => {
  it('signs the old file, moves it, opens the new one before the entries that waited, then runs retention', async () => {
    const key = signer();
    // Due once, when the file holds the open entry and one request.
    const { sink, files, calls, hold, waiting } = rotatingSink({
      rotateWhen: (lines) => lines === 2,
    });
    const starts: FileStart[] = [];
    const errors: Error[] = [];
    let t = START;
    const chain = new ChainedSink(sink, {
      signer: key,
      checkpointEvery: 100,
      now: () => new Date(t++),
      onFileStart: (s) => starts.push(s),
      onError: (e) => errors.push(e),
    });
    await chain.open();
    await chain.retain();
    calls.length = 0;
    // The file is due after the first request's write: the rotation goes ahead of the two
    // requests queued while that write was in flight, and they follow the new open entry.
    const release = hold();
    const first = chain.append({ type: 'request', n: 1 });
    await vi.waitFor(() => expect(waiting).toHaveLength(1));
    const queued = [2, 3].map((n) => chain.append({ type: 'request', n }));
    release();
    await Promise.all([first, ...queued]);
    await vi.waitFor(() => expect(calls).toContain('expired'));
    expect(calls).toEqual([
      'write request',
      'due?',
      'write checkpoint',
      'rotate',
      'write open,request,request',
      'expired',
      'due?',
    ]);
    expect(errors).toEqual([]);
    expect(files.map(types)).toEqual([
      ['open', 'request', 'checkpoint'],
      ['open', 'request', 'request'],
    ]);
    const [old, current] = files as [string[], string[]];
    expect(parsed(current)[0]).toMatchObject({
      seq: 4,
      prev: lineHash(old[2] as string),
      starts_file: true,
    });
    expect(starts).toEqual([
      expect.objectContaining({ seq: 1, cause: 'start' }),
      {
        seq: 4,
        hash: lineHash(current[0] as string),
        time: parsed(current)[0]?.time,
        previous: { seq: 3, hash: lineHash(old[2] as string) },
        cause: 'start',
      },
    ]);
    await chain.close();
    const at = new Date(t);
    expect(verifyAuditLog(fileText(old), { publicKey: key.pem, now: at }).problems).toEqual([]);
    expect(verifyAuditLog(fileText(current), { publicKey: key.pem, now: at })).toMatchObject({
      ok: true,
      closed: true,
      firstSeq: 4,
    });
  });

  it('rotates again each time the new file is due', async () => {
    const { sink, files, calls } = rotatingSink({ rotateWhen: (lines) => lines >= 3 });
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    for (let n = 1; n <= 4; n++) await chain.append({ type: 'request', n });
    await vi.waitFor(() => expect(calls.filter((c) => c === 'rotate')).toHaveLength(2));
    expect(files.map(types)).toEqual([
      ['open', 'request', 'request', 'checkpoint'],
      ['open', 'request', 'request', 'checkpoint'],
      ['open'],
    ]);
  });

  it('never moves aside an end it could not sign: the file is kept, and the failure reported', async () => {
    const { sink, files, calls } = rotatingSink({
      rotateWhen: (lines) => lines >= 2,
      failWriteOf: '"checkpoint"',
    });
    const { errors } = await openWithRequest(sink);
    // The first rotation's checkpoint fails: the file stays, the rotation's open entry is
    // written into it (a restart inside it), and the next rotation signs and moves it.
    await vi.waitFor(() => expect(calls.filter((c) => c === 'rotate')).toHaveLength(1));
    expect(errors.map((e) => e.message)).toEqual(['disk full']);
    await vi.waitFor(() => expect(calls.at(-1)).toBe('due?'));
    expect(calls.filter((c) => c !== 'expired')).toEqual([
      'write open',
      'due?',
      'write request',
      'due?',
      'write failed',
      'write open',
      'due?',
      'write checkpoint',
      'rotate',
      'write open',
      'due?',
    ]);
    expect(files.map((f) => parsed(f).map((e) => [e.type, e.seq, e.starts_file]))).toEqual([
      [
        ['open', 1, true],
        ['request', 2, undefined],
        ['open', 3, false],
        ['checkpoint', 4, undefined],
      ],
      [['open', 5, true]],
    ]);
  });

  it("a rotation whose new file's open entry cannot be written reports the failure", async () => {
    // The open entry is the fourth line: open, request, the rotation's checkpoint, then it.
    const { sink, calls } = rotatingSink({
      rotateWhen: (lines) => lines >= 2,
      failWriteOf: '"seq":4,',
    });
    const { errors } = await openWithRequest(sink);
    await vi.waitFor(() => expect(calls).toContain('write failed'));
    await vi.waitFor(() => expect(errors.map((e) => e.message)).toEqual(['disk full']));
    expect(calls.filter((c) => c !== 'expired').slice(0, 7)).toEqual([
      'write open',
      'due?',
      'write request',
      'due?',
      'write checkpoint',
      'rotate',
      'write failed',
    ]);
  });

  it('a failed rotation check is reported with its own error, and nothing rotates', async () => {
    const { sink, files } = rotatingSink();
    const failure = new Error('stat failed');
    const errors: Error[] = [];
    const chain = new ChainedSink(
      {
        ...sink,
        rotationDue: () => Promise.reject(failure),
        rotate: async () => {
          throw new Error('never called');
        },
      },
      { signer: signer(), checkpointEvery: 100, onError: (e) => errors.push(e) },
    );
    await chain.open();
    await chain.append({ type: 'request', n: 1 });
    await vi.waitFor(() => expect(errors).toEqual([failure, failure]));
    expect(errors[1]).toBe(failure);
    expect(files.map(types)).toEqual([['open', 'request']]);
  });

  it('a failure that is not an Error reaches onError as an Error with its text', async () => {
    const { sink } = rotatingSink();
    const errors: Error[] = [];
    const chain = new ChainedSink(
      { ...sink, rotationDue: () => Promise.reject('no space left') },
      { signer: signer(), onError: (e) => errors.push(e) },
    );
    await chain.open();
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]?.message).toBe('no space left');
  });

  it('without onError, failures of rotation and retention are dropped and writing goes on', async () => {
    const { sink, files, calls } = rotatingSink({
      rotateWhen: (lines) => lines >= 2,
      failWriteOf: '"checkpoint"',
    });
    const chain = new ChainedSink(
      {
        ...sink,
        expired: async () => {
          calls.push('expired');
          throw new Error('cannot list');
        },
      },
      { signer: signer(), checkpointEvery: 100 },
    );
    await chain.open();
    await chain.append({ type: 'request', n: 1 });
    await vi.waitFor(() => expect(calls.filter((c) => c === 'rotate')).toHaveLength(1));
    await expect(chain.retain()).resolves.toBeUndefined();
    const failing = new ChainedSink(
      { ...sink, rotationDue: () => Promise.reject(new Error('stat failed')) },
      { signer: signer(), checkpointEvery: 100 },
    );
    await failing.append({ type: 'request', n: 2 });
    await failing.append({ type: 'request', n: 3 });
    expect(types(files[1] as string[])).toEqual(['open', 'request', 'request']);
  });

  it('a sink refused while a write is in flight is not checked for rotation', async () => {
    const { sink, calls, hold, waiting } = rotatingSink({ rotateWhen: () => true });
    const errors: Error[] = [];
    const chain = new ChainedSink(sink, { signer: signer(), onError: (e) => errors.push(e) });
    const release = hold();
    const opened = chain.open();
    await vi.waitFor(() => expect(waiting).toHaveLength(1));
    chain.refuse(new SinkNameClash('file', 'node-b writes it'));
    release();
    await opened;
    await chain.retain();
    expect(calls).toEqual(['write open']);
    expect(errors).toEqual([]);
  });

  it('reopens a sink without a reopen of its own: the end is signed, an open entry follows', async () => {
    const { sink, files, calls } = rotatingSink();
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    await chain.retain();
    calls.length = 0;
    await chain.append({ type: 'request', n: 1 });
    await chain.reopen();
    await vi.waitFor(() => expect(calls).toContain('expired'));
    expect(files.map(types)).toEqual([['open', 'request', 'checkpoint', 'open']]);
    expect(parsed(files[0] as string[])[3]).toMatchObject({ seq: 4, starts_file: false });
    expect(calls).toEqual(['write request', 'write checkpoint', 'write open', 'expired']);
  });
  it('a sink that cannot reopen fails the reopen with its error, and the chain goes on', async () => {
    const { sink, files } = rotatingSink();
    const failing: AuditSink = {
      ...sink,
      reopen: async () => {
        throw new Error('cannot reopen: permission denied');
      },
    };
    const chain = new ChainedSink(failing, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    await expect(chain.reopen()).rejects.toThrow('cannot reopen: permission denied');
    await chain.append({ type: 'request', n: 1 });
    expect(types(files.flat())).toContain('request');
  });
});

describe('retention by the writer', () => {
  it('opening runs a retention pass: each deletion recorded, then the file removed, in order', async () => {
    const old = [rotated('file.1', 1, 40), rotated('file.2', 41, 80)];
    const { sink, files, calls } = rotatingSink({ expired: old });
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    await vi.waitFor(() => expect(calls).toContain('remove file.2'));
    expect(calls).toEqual([
      'write open',
      'expired',
      'write retention',
      'remove file.1',
      'write retention',
      'remove file.2',
    ]);
    expect(parsed(files[0] as string[]).slice(1)).toEqual(
      old.map((file, i) => ({
        time: expect.any(String),
        seq: i + 2,
        prev: lineHash(files[0]?.[i] as string),
        type: 'retention',
        sink: 'file',
        deleted: {
          file: file.name,
          first_seq: file.firstSeq,
          last_seq: file.lastSeq,
          last_hash: file.lastHash,
          last_time: file.lastTime,
        },
      })),
    );
  });

  it('a sink that lists expired files but cannot remove them gets no retention pass (nothing recorded as deleted)', async () => {
    const { sink, files, calls } = rotatingSink({ expired: [rotated('file.1', 1, 40)] });
    const { remove: _cannot, ...listing } = sink;
    const chain = new ChainedSink(listing, { signer: signer(), checkpointEvery: 100 });
    await chain.open();
    await chain.append({ type: 'request', n: 1 });
    await chain.close();
    expect(calls).not.toContain('expired');
    expect(types(files[0] as string[])).toEqual(['open', 'request', 'close', 'checkpoint']);
  });

  it('a file whose deletion could not be recorded is not removed, and the failure is reported', async () => {
    const { sink, calls } = rotatingSink({
      expired: [rotated('file.1', 1, 40)],
      failWriteOf: '"retention"',
    });
    const errors: Error[] = [];
    const chain = new ChainedSink(sink, { signer: signer(), onError: (e) => errors.push(e) });
    await chain.open();
    await chain.retain();
    expect(errors.map((e) => e.message)).toEqual(['disk full']);
    expect(calls.filter((c) => c.startsWith('remove'))).toEqual([]);
  });

  it('passes asked for while one waits to start share it; one more is queued behind a running one', async () => {
    const { sink, calls } = rotatingSink();
    let listing!: () => void;
    const chain = new ChainedSink(
      {
        ...sink,
        expired: () => {
          calls.push('expired');
          return new Promise<RotatedFile[]>((resolve) => {
            listing = () => resolve([]);
          });
        },
      },
      { signer: signer() },
    );
    const first = chain.retain();
    expect(chain.retain()).toBe(first); // not started yet: the same pass
    await vi.waitFor(() => expect(calls).toEqual(['expired']));
    const second = chain.retain(); // the first is running: one more queued after it
    expect(second).not.toBe(first);
    expect(chain.retain()).toBe(second);
    listing();
    await first;
    await vi.waitFor(() => expect(calls).toEqual(['expired', 'expired']));
    // A pass asked for while the second runs waits for it, never runs beside it (two passes
    // listing the same files at once would record and remove a file twice).
    const third = chain.retain();
    expect(third).not.toBe(second);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual(['expired', 'expired']);
    listing();
    await second;
    await vi.waitFor(() => expect(calls).toEqual(['expired', 'expired', 'expired']));
    listing();
    await third;
    expect(calls).toEqual(['expired', 'expired', 'expired']);
  });

  it('nothing is recorded or removed once the sink is closed, nor for a refused sink', async () => {
    const { sink, calls } = rotatingSink({ expired: [rotated('file.1', 1, 40)] });
    const chain = new ChainedSink(sink, { signer: signer(), checkpointEvery: 100 });
    await chain.close();
    await chain.retain();
    expect(calls).toEqual(['write close,checkpoint', 'close']);

    const { sink: broken, calls: brokenCalls } = rotatingSink({
      expired: [rotated('file.1', 1, 40)],
    });
    const refused = new ChainedSink(
      {
        ...broken,
        history: async () => {
          throw new Error('unreadable');
        },
      },
      { signer: signer() },
    );
    await expect(refused.open()).rejects.toMatchObject({ code: 'ERR_AUDIT_CHAIN_BROKEN' });
    await refused.retain();
    expect(brokenCalls).toEqual([]);
  });

  it('a pass that is listing when the sink closes records nothing after the close', async () => {
    const { sink, files, calls } = rotatingSink();
    let listing!: (files: RotatedFile[]) => void;
    const chain = new ChainedSink(
      {
        ...sink,
        expired: () => {
          calls.push('expired');
          return new Promise<RotatedFile[]>((resolve) => {
            listing = resolve;
          });
        },
      },
      { signer: signer() },
    );
    await chain.open();
    await vi.waitFor(() => expect(calls).toContain('expired'));
    await chain.close();
    listing([rotated('file.1', 1, 40)]);
    await chain.retain();
    expect(types(files[0] as string[])).toEqual(['open', 'close', 'checkpoint']);
    expect(calls.filter((c) => c.startsWith('remove'))).toEqual([]);
  });
});
