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

/**
 * One sink's hash chain. Every line carries `seq` (consecutive) and `prev` (SHA-256 of the line
 * before it); every N entries or T seconds a `checkpoint` line is signed with Ed25519, so a
 * verifier can tell an edited, removed, reordered or appended-by-someone-else line from an
 * intact log. Lines are built and written strictly one at a time: `prev` always names the line
 * actually written before, and a failed write does not advance the chain. See `NOTES.md`.
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
  #seq = 0;
  #prev = GENESIS_HASH;
  #unsigned = 0;
  #queued = 0;
  #tail: Promise<unknown> = Promise.resolve();
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
          this.#seq = parsed.seq;
          this.#prev = lineHash(last.line);
        }
      } catch {
        // An unreadable last line: start a new chain segment; the verifier reports the damage.
      }
    }
    await this.#enqueue(() => ({
      type: 'open',
      sink: this.sink.name,
      key_id: this.#signer.keyId,
      public_key: this.#signer.publicKey,
    }));
  }

  /** Appends one entry (its `seq` and `prev` are added here). */
  append(entry: Record<string, unknown>): Promise<void> {
    return this.#enqueue(() => entry).then(() => {
      if (this.#unsigned >= this.#every) void this.checkpoint().catch(() => {});
      else
        this.#timer ??= setTimeout(
          () => void this.checkpoint().catch(() => {}),
          this.#intervalMs,
        ).unref();
    });
  }

  /** Writes a signed checkpoint covering everything before it (no-op when nothing is unsigned). */
  checkpoint(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#enqueue(
      () => {
        if (this.#unsigned === 0) return undefined;
        const time = this.#now().toISOString();
        const seq = this.#seq + 1;
        const message = checkpointMessage(this.sink.name, seq, this.#prev, time);
        return {
          type: 'checkpoint',
          sink: this.sink.name,
          key_id: this.#signer.keyId,
          signature: sign(null, message, this.#signer.privateKey).toString('base64'),
          checkpoint_time: time,
        };
      },
      (line, seq) => {
        this.#unsigned = 0;
        this.#onCheckpoint?.({
          sink: this.sink.name,
          seq,
          hash: lineHash(line),
          time: this.#now().toISOString(),
        });
      },
    );
  }

  /** Reopens the sink between two writes (after log rotation, on SIGHUP). */
  reopen(): Promise<void> {
    const run = this.#tail.catch(() => {}).then(() => this.sink.reopen?.());
    this.#tail = run;
    return run;
  }

  /** A final checkpoint and a `close` entry, then closes the sink. */
  async close(): Promise<void> {
    await this.#enqueue(() => ({ type: 'close', sink: this.sink.name })).catch(() => {});
    await this.checkpoint().catch(() => {});
    await this.#tail.catch(() => {});
    await this.sink.close();
  }

  /**
   * Queues a line. `build` runs when its turn comes, so `seq`, `prev` and (for checkpoints) the
   * signed message see the chain exactly as written. Returning undefined writes nothing.
   */
  #enqueue(
    build: () => Record<string, unknown> | undefined,
    afterWrite?: (line: string, seq: number) => void,
  ): Promise<void> {
    if (this.#queued >= this.#maxQueued) {
      return Promise.reject(
        new CustosError('ERR_AUDIT_UNAVAILABLE', `audit sink ${this.sink.name} is stuck`),
      );
    }
    this.#queued++;
    const run = this.#tail
      .catch(() => {})
      .then(async () => {
        try {
          const body = build();
          if (body === undefined) return;
          const seq = this.#seq + 1;
          // Checkpoints put `time` first like every entry; the signature covers time via the message.
          const { checkpoint_time, ...rest } = body as { checkpoint_time?: string };
          const time = checkpoint_time ?? this.#now().toISOString();
          const line = JSON.stringify({ time, seq, prev: this.#prev, ...rest });
          await this.sink.write(line);
          this.#seq = seq;
          this.#prev = lineHash(line);
          if (body.type !== 'checkpoint') this.#unsigned++;
          afterWrite?.(line, seq);
        } finally {
          this.#queued--;
        }
      });
    this.#tail = run;
    return run;
  }
}
