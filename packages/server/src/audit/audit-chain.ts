import { createHash, type KeyObject, sign } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import type { AuditSink } from './sinks.js';

/** `prev` of the very first entry of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 of one audit line (the exact bytes, without the newline), hex. */
export function lineHash(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/** The bytes a checkpoint signature covers. `prev` chains every earlier line. */
export function checkpointMessage(sink: string, seq: number, prev: string, time: string): Buffer {
  return Buffer.from(`custos-audit-checkpoint/v1\n${sink}\n${seq}\n${prev}\n${time}`, 'utf8');
}

/** The signing identity of this server's checkpoints. */
export interface CheckpointSigner {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  /** SPKI DER, base64: written into `open` entries so a verifier can check signatures. */
  readonly publicKey: string;
}

/** The latest checkpoint of a chain: its sequence number and the hash of its line. */
export interface CheckpointRecord {
  readonly sink: string;
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
}

/** Options for {@link ChainedSink}. */
export interface ChainOptions {
  readonly signer: CheckpointSigner;
  /** A checkpoint after this many entries (default 100)… */
  readonly checkpointEvery?: number;
  /** …or this long after the first unsigned entry (default 10 s). */
  readonly checkpointIntervalMs?: number;
  /** Called with every checkpoint written (the server keeps the latest in storage). */
  readonly onCheckpoint?: (record: CheckpointRecord) => void;
  /** Writes waiting beyond this many fail at once: the sink is stuck (default 1000). */
  readonly maxQueued?: number;
  readonly now?: () => Date;
}

/** The head of a chain: the last written line's seq and hash, and entries since the last checkpoint. */
interface ChainHead {
  readonly seq: number;
  readonly prev: string;
  readonly unsigned: number;
}

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

type QueueItem =
  | {
      readonly kind: 'entry';
      readonly build: (head: ChainHead) => Record<string, unknown> | undefined;
      readonly onWritten?: (line: string, seq: number) => void;
      readonly done: Deferred;
    }
  | { readonly kind: 'task'; readonly run: () => Promise<void> | void; readonly done: Deferred };

/**
 * One sink's hash chain. Every line carries `seq` (consecutive) and `prev` (SHA-256 of the line
 * before it); every N entries or T seconds a `checkpoint` line is signed with Ed25519, so a
 * verifier can tell an edited, removed, reordered or appended-by-someone-else line from an
 * intact log. Lines are built strictly in order and written by group commit: entries that
 * queue up while a write is in flight go out together in the next write. The chain advances
 * only when a write succeeds, so `prev` always names the line really written before it.
 * See `NOTES.md`.
 *
 * @example
 * ```ts
 * const chain = new ChainedSink(createFileSink('file', 'audit.log'), { signer });
 * await chain.open();
 * await chain.append({ type: 'request', request: { path: 'secret/data/x' } });
 * ```
 */
export class ChainedSink {
  readonly sink: AuditSink;
  readonly #signer: CheckpointSigner;
  readonly #every: number;
  readonly #intervalMs: number;
  readonly #onCheckpoint: ((record: CheckpointRecord) => void) | undefined;
  readonly #maxQueued: number;
  readonly #now: () => Date;
  #head: ChainHead = { seq: 0, prev: GENESIS_HASH, unsigned: 0 };
  #queue: QueueItem[] = [];
  #inFlight = 0;
  #draining = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(sink: AuditSink, options: ChainOptions) {
    this.sink = sink;
    this.#signer = options.signer;
    this.#every = options.checkpointEvery ?? 100;
    this.#intervalMs = options.checkpointIntervalMs ?? 10_000;
    this.#onCheckpoint = options.onCheckpoint;
    this.#maxQueued = options.maxQueued ?? 1000;
    this.#now = options.now ?? (() => new Date());
  }

  /** Continues the chain already in the sink (if any) and writes an `open` entry. */
  async open(): Promise<void> {
    const last = await this.sink.lastLine().catch(() => undefined);
    if (last !== undefined) {
      try {
        const parsed = JSON.parse(last.line) as { seq?: unknown };
        if (typeof parsed.seq === 'number') {
          this.#head = { seq: parsed.seq, prev: lineHash(last.line), unsigned: 0 };
        }
      } catch {
        // An unreadable last line: start a new chain segment; the verifier reports the damage.
      }
    }
    await this.#entry(() => ({
      type: 'open',
      sink: this.sink.name,
      key_id: this.#signer.keyId,
      public_key: this.#signer.publicKey,
    }));
  }

  /** Appends one entry (its `seq` and `prev` are added here). */
  async append(entry: Record<string, unknown>): Promise<void> {
    await this.#entry(() => entry);
    if (this.#head.unsigned >= this.#every) {
      void this.checkpoint().catch(() => {});
    } else {
      this.#timer ??= setTimeout(
        () => void this.checkpoint().catch(() => {}),
        this.#intervalMs,
      ).unref();
    }
  }

  /** Writes a signed checkpoint covering everything before it (no-op when nothing is unsigned). */
  checkpoint(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#entry(
      (head) => {
        if (head.unsigned === 0) return undefined;
        const time = this.#now().toISOString();
        const message = checkpointMessage(this.sink.name, head.seq + 1, head.prev, time);
        return {
          type: 'checkpoint',
          sink: this.sink.name,
          key_id: this.#signer.keyId,
          signature: sign(null, message, this.#signer.privateKey).toString('base64'),
          checkpoint_time: time,
        };
      },
      (line, seq) =>
        this.#onCheckpoint?.({
          sink: this.sink.name,
          seq,
          hash: lineHash(line),
          time: this.#now().toISOString(),
        }),
    );
  }

  /** Reopens the sink between two writes (after log rotation, on SIGHUP). */
  reopen(): Promise<void> {
    return this.#push((done) => ({ kind: 'task', run: () => this.sink.reopen?.(), done }));
  }

  /** A `close` entry and a final checkpoint, then closes the sink. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#entry(() => ({ type: 'close', sink: this.sink.name })).catch(() => {});
    await this.checkpoint().catch(() => {});
    await this.sink.close();
  }

  #entry(
    build: (head: ChainHead) => Record<string, unknown> | undefined,
    onWritten?: (line: string, seq: number) => void,
  ) {
    return this.#push((done) => ({
      kind: 'entry',
      build,
      ...(onWritten ? { onWritten } : {}),
      done,
    }));
  }

  #push(make: (done: Deferred) => QueueItem): Promise<void> {
    if (this.#queue.length + this.#inFlight >= this.#maxQueued) {
      return Promise.reject(
        new CustosError('ERR_AUDIT_UNAVAILABLE', `audit sink ${this.sink.name} is stuck`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(make({ resolve, reject }));
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const first = this.#queue[0] as QueueItem;
        if (first.kind === 'task') {
          this.#queue.shift();
          try {
            await first.run();
            first.done.resolve();
          } catch (err) {
            first.done.reject(err);
          }
          continue;
        }
        const end = this.#queue.findIndex((item) => item.kind === 'task');
        const batch = this.#queue.splice(0, end === -1 ? this.#queue.length : end) as Extract<
          QueueItem,
          { kind: 'entry' }
        >[];
        await this.#writeBatch(batch);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #writeBatch(batch: Extract<QueueItem, { kind: 'entry' }>[]): Promise<void> {
    let head = this.#head;
    const written: { item: (typeof batch)[number]; line: string; seq: number }[] = [];
    const skipped: (typeof batch)[number][] = [];
    for (const item of batch) {
      const body = item.build(head);
      if (body === undefined) {
        skipped.push(item);
        continue;
      }
      const seq = head.seq + 1;
      // Checkpoints put `time` first like every entry; their signature covers that time.
      const { checkpoint_time, ...rest } = body as { checkpoint_time?: string };
      const line = JSON.stringify({
        time: checkpoint_time ?? this.#now().toISOString(),
        seq,
        prev: head.prev,
        ...rest,
      });
      head = {
        seq,
        prev: lineHash(line),
        unsigned: body.type === 'checkpoint' ? 0 : head.unsigned + 1,
      };
      written.push({ item, line, seq });
    }
    this.#inFlight = written.length;
    try {
      if (written.length > 0) await this.sink.write(written.map((w) => w.line).join('\n'));
      this.#head = head;
      for (const w of written) {
        w.item.onWritten?.(w.line, w.seq);
        w.item.done.resolve();
      }
    } catch (err) {
      for (const w of written) w.item.done.reject(err);
    } finally {
      this.#inFlight = 0;
      for (const item of skipped) item.done.resolve();
    }
  }
}
