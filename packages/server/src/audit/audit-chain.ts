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

/** A checkpoint after this many unsigned entries, unless configured otherwise. */
export const DEFAULT_CHECKPOINT_EVERY = 100;
/** A checkpoint at most this long after the first unsigned entry, unless configured otherwise. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;

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

/** The head of a chain: the last written line's seq and hash, and the entries since the last checkpoint. */
interface ChainHead {
  readonly seq: number;
  readonly prev: string;
  readonly unsigned: number;
  /** Time (ms, as written in its line) of the first entry after the last checkpoint. */
  readonly firstUnsignedMs: number | undefined;
}

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

type QueueItem =
  | { readonly kind: 'entry'; readonly body: Record<string, unknown>; readonly done: Deferred }
  | { readonly kind: 'checkpoint'; readonly done: Deferred }
  | { readonly kind: 'task'; readonly run: () => Promise<void> | void; readonly done: Deferred };

type LineItem = Exclude<QueueItem, { kind: 'task' }>;

/**
 * One sink's hash chain. Every line carries `seq` (consecutive) and `prev` (SHA-256 of the line
 * before it); a signed `checkpoint` line (Ed25519) follows at the latest after every N entries,
 * T after the first unsigned entry, and right after a `close` entry. The count, close and
 * "an entry due after T" rules are applied while lines are built, so they hold exactly and a
 * verifier can rely on them; a timer covers a quiet log. Lines are built strictly in order and
 * written by group commit: entries that queue up while a write is in flight go out together in
 * the next write. The chain advances only when a write succeeds, so `prev` always names the line
 * really written before it. See `NOTES.md`.
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
  #head: ChainHead = { seq: 0, prev: GENESIS_HASH, unsigned: 0, firstUnsignedMs: undefined };
  #queue: QueueItem[] = [];
  #inFlight = 0;
  #draining = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(sink: AuditSink, options: ChainOptions) {
    this.sink = sink;
    this.#signer = options.signer;
    this.#every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    this.#intervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#onCheckpoint = options.onCheckpoint;
    this.#maxQueued = options.maxQueued ?? 1000;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Continues the chain already in the sink (if any) and writes an `open` entry announcing the
   * signing key and the checkpoint cadence (which the verifier holds the log to).
   */
  async open(): Promise<void> {
    const last = await this.sink.lastLine().catch(() => undefined);
    if (last !== undefined) {
      try {
        const parsed = JSON.parse(last.line) as { seq?: unknown };
        if (typeof parsed.seq === 'number') {
          this.#head = {
            seq: parsed.seq,
            prev: lineHash(last.line),
            unsigned: 0,
            firstUnsignedMs: undefined,
          };
        }
      } catch {
        // An unreadable last line: start a new chain segment; the verifier reports the damage.
      }
    }
    await this.#push((done) => ({ kind: 'entry', body: this.#openEntry(), done }));
  }

  /** Appends one entry (its `time`, `seq` and `prev` are added here). */
  append(entry: Record<string, unknown>): Promise<void> {
    return this.#push((done) => ({ kind: 'entry', body: entry, done }));
  }

  /** Writes a signed checkpoint covering everything before it (no-op when nothing is unsigned). */
  checkpoint(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#push((done) => ({ kind: 'checkpoint', done }));
  }

  /**
   * Reopens the sink between two writes (after log rotation, on SIGHUP): the old file ends at a
   * checkpoint, the new one starts with an `open` entry; the chain runs on across both.
   */
  async reopen(): Promise<void> {
    const signed = this.checkpoint();
    const reopened = this.#push((done) => ({
      kind: 'task',
      run: () => this.sink.reopen?.(),
      done,
    }));
    const announced = this.#push((done) => ({ kind: 'entry', body: this.#openEntry(), done }));
    await Promise.all([signed, reopened, announced]);
  }

  /** A `close` entry (a checkpoint follows it at once), then closes the sink. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.append({ type: 'close', sink: this.sink.name }).catch(() => {});
    await this.sink.close();
  }

  #openEntry(): Record<string, unknown> {
    return {
      type: 'open',
      sink: this.sink.name,
      key_id: this.#signer.keyId,
      public_key: this.#signer.publicKey,
      checkpoint_every: this.#every,
      checkpoint_interval_ms: this.#intervalMs,
    };
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
        const batch = this.#queue.splice(0, end === -1 ? this.#queue.length : end) as LineItem[];
        await this.#writeBatch(batch);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #writeBatch(batch: readonly LineItem[]): Promise<void> {
    let head = this.#head;
    const lines: string[] = [];
    const checkpoints: CheckpointRecord[] = [];
    const emit = (fields: Record<string, unknown>, time: string) => {
      const seq = head.seq + 1;
      const line = JSON.stringify({ time, seq, prev: head.prev, ...fields });
      const signed = fields.type === 'checkpoint';
      head = {
        seq,
        prev: lineHash(line),
        unsigned: signed ? 0 : head.unsigned + 1,
        firstUnsignedMs: signed ? undefined : (head.firstUnsignedMs ?? Date.parse(time)),
      };
      lines.push(line);
      if (signed) checkpoints.push({ sink: this.sink.name, seq, hash: lineHash(line), time });
    };
    const checkpoint = (time: string) => {
      if (head.unsigned === 0) return;
      const message = checkpointMessage(this.sink.name, head.seq + 1, head.prev, time);
      emit(
        {
          type: 'checkpoint',
          sink: this.sink.name,
          key_id: this.#signer.keyId,
          signature: sign(null, message, this.#signer.privateKey).toString('base64'),
        },
        time,
      );
    };
    for (const item of batch) {
      const time = this.#now().toISOString();
      if (item.kind === 'checkpoint') {
        checkpoint(time);
        continue;
      }
      // Never an entry T or more after the first unsigned one without a checkpoint between.
      if (
        head.firstUnsignedMs !== undefined &&
        Date.parse(time) - head.firstUnsignedMs >= this.#intervalMs
      )
        checkpoint(time);
      emit(item.body, time);
      if (head.unsigned >= this.#every || item.body.type === 'close') checkpoint(time);
    }
    this.#inFlight = batch.length;
    try {
      if (lines.length > 0) await this.sink.write(lines.join('\n'));
      this.#head = head;
      for (const record of checkpoints) this.#onCheckpoint?.(record);
      for (const item of batch) item.done.resolve();
      if (head.unsigned > 0) {
        // A quiet log is still signed within the interval.
        this.#timer ??= setTimeout(
          () => void this.checkpoint().catch(() => {}),
          this.#intervalMs,
        ).unref();
      }
    } catch (err) {
      for (const item of batch) item.done.reject(err);
    } finally {
      this.#inFlight = 0;
    }
  }
}
