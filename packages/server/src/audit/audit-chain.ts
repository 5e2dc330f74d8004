import { type KeyObject, sign } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';
import {
  ChainBroken,
  type ChainPoint,
  type ChainState,
  checkContinuity,
  type FileStart,
} from './audit-continuity.js';
import { checkpointMessage, GENESIS_HASH, lineHash } from './audit-line.js';
import { SinkNameClash } from './audit-sink-owner.js';
import type { AuditSink } from './sinks.js';

export { checkpointMessage, GENESIS_HASH, lineHash } from './audit-line.js';

/**
 * An entry already serialised: `json` is the text of its fields as one JSON object (`type`
 * first), exactly as `JSON.stringify` writes them. The chain adds `time`, `seq` and `prev` in
 * front, so the line's bytes are those of the same entry given as an object; a part shared by
 * two entries (a request's `auth` and `request` blocks) is serialised once.
 *
 * @example
 * ```ts
 * await chain.append(new SerializedEntry('request', '{"type":"request","request":{}}'));
 * ```
 */
export class SerializedEntry {
  readonly type: string;
  readonly json: string;

  constructor(type: string, json: string) {
    // The chain splices `json` after its own fields: it must be an object that says its type.
    if (!json.startsWith(`{"type":${JSON.stringify(type)}`) || !json.endsWith('}'))
      throw new TypeError('a serialised audit entry is a JSON object beginning with its type');
    this.type = type;
    this.json = json;
  }
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
  /** Called when a write began a new (empty) file, with its first line (the server records it). */
  readonly onFileStart?: (start: FileStart) => void;
  /** Reports failures of work nobody awaits: a rotation, a retention pass (never entry contents). */
  readonly onError?: (error: Error) => void;
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

const GENESIS: ChainHead = { seq: 0, prev: GENESIS_HASH, unsigned: 0, firstUnsignedMs: undefined };

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

type QueueItem =
  | {
      readonly kind: 'entry';
      readonly body: Record<string, unknown> | SerializedEntry;
      readonly done: Deferred;
    }
  | { readonly kind: 'open'; readonly fields: Record<string, unknown>; readonly done: Deferred }
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
 * really written before it. Opening checks that the sink still holds the chain the server
 * recorded; a sink that does not is refused (every write fails with `ERR_AUDIT_CHAIN_BROKEN`)
 * until {@link ChainedSink.startNewFile}. See `NOTES.md`.
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
  readonly #onFileStart: ((start: FileStart) => void) | undefined;
  readonly #maxQueued: number;
  readonly #now: () => Date;
  readonly #onError: ((error: Error) => void) | undefined;
  /** A rotation is queued or running (the next one waits until its new file is opened). */
  #rotating = false;
  /** A retention pass is running. */
  /** The retention pass running or queued last, and the one queued and not yet started. */
  #retaining: Promise<void> | undefined;
  #retainQueued: Promise<void> | undefined;
  /** Closed: a retention pass still running records nothing more (nothing follows `close`). */
  #closed = false;
  /** Closed and its close entry queued: nothing more is taken. */
  #ended = false;
  #head: ChainHead = GENESIS;
  #queue: QueueItem[] = [];
  #inFlight = 0;
  #draining = false;
  /** A drain is due at the end of this turn of the event loop (see {@link ChainedSink.#push}). */
  #drainDue = false;
  #timer: NodeJS.Timeout | undefined;
  /** Why the sink was refused when opened (undefined: it was not). */
  #refusal: ChainBroken | SinkNameClash | undefined;
  /** An `open` entry was due but its write failed: the next write announces again. */
  #announce = false;

  constructor(sink: AuditSink, options: ChainOptions) {
    this.sink = sink;
    this.#signer = options.signer;
    this.#every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    this.#intervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#onCheckpoint = options.onCheckpoint;
    this.#onFileStart = options.onFileStart;
    this.#maxQueued = options.maxQueued ?? 1000;
    this.#now = options.now ?? (() => new Date());
    this.#onError = options.onError;
  }

  /** Why the sink was refused when it was opened, or undefined. */
  get refusal(): string | undefined {
    return this.#refusal?.reason;
  }

  /** The refusal's code: a broken chain, or a sink name another node writes. */
  get refusalCode(): 'ERR_AUDIT_CHAIN_BROKEN' | 'ERR_AUDIT_SINK_NAME_CLASH' | undefined {
    return this.#refusal?.code as
      | 'ERR_AUDIT_CHAIN_BROKEN'
      | 'ERR_AUDIT_SINK_NAME_CLASH'
      | undefined;
  }

  /**
   * Refuses the sink from here on (another node took its name over): nothing more is written,
   * every queued and later write rejects with `error`. A new file does not lift this.
   */
  refuse(error: SinkNameClash): void {
    this.#refusal ??= error;
  }

  /**
   * Checks that the sink continues the chain the server recorded (`state`: its latest
   * checkpoint and where its files start), continues it from its last line, and writes an
   * `open` entry announcing the signing key and the checkpoint cadence (which the verifier holds
   * the log to). A sink that does not continue its chain is refused: this rejects with
   * `ERR_AUDIT_CHAIN_BROKEN` (the reason), and so does every later write, until
   * {@link ChainedSink.startNewFile}.
   */
  async open(state: ChainState = { files: [] }): Promise<void> {
    const checked = this.#push((done) => ({
      kind: 'task',
      run: () => this.#continue(state),
      done,
    }));
    const announced = this.#push((done) => ({ kind: 'open', fields: {}, done }));
    await Promise.all([checked, announced]);
    void this.retain();
  }

  /**
   * Starts a new file for a refused sink (its file moved aside or emptied by an operator): the
   * chain continues from `previous`, the last checkpoint the server recorded (so the old file,
   * up to that checkpoint, and the new one verify as one chain), with an `open` entry that says
   * so and why the sink was refused; `entries` follow it (the operator's request).
   */
  startNewFile(
    previous: ChainPoint | null,
    entries: readonly Record<string, unknown>[],
  ): Promise<void> {
    const refusal = this.#refusal;
    if (refusal === undefined) {
      return Promise.reject(
        new CustosError(
          'ERR_INVALID_REQUEST',
          `audit sink ${this.sink.name} was not refused: it continues its chain (to start a new file, move the file and send SIGHUP)`,
        ),
      );
    }
    if (refusal instanceof SinkNameClash) return Promise.reject(refusal);
    this.#refusal = undefined;
    this.#head =
      previous === null
        ? GENESIS
        : { seq: previous.seq, prev: previous.hash, unsigned: 0, firstUnsignedMs: undefined };
    const fields = {
      new_file: { previous_checkpoint: previous, refused: refusal.reason },
    };
    const writes = [
      this.#push((done) => ({ kind: 'open', fields, done })),
      ...entries.map((entry) => this.append(entry)),
    ];
    return Promise.all(writes).then(() => undefined);
  }

  /** Appends one entry (its `time`, `seq` and `prev` are added here). */
  append(entry: Record<string, unknown> | SerializedEntry): Promise<void> {
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
    if (this.#refusal !== undefined) throw this.#refusal;
    const signed = this.checkpoint();
    const reopened = this.#push((done) => ({
      kind: 'task',
      run: () => this.sink.reopen?.(),
      done,
    }));
    const announced = this.#push((done) => ({ kind: 'open', fields: {}, done }));
    await Promise.all([signed, reopened, announced]);
    void this.retain();
  }

  /**
   * Retention: each rotated file past the sink's retention is recorded in the chain (a
   * `retention` entry naming the file, its seq range and its last line's hash, which the next
   * file's first line chains to), then deleted. Runs after every rotation, reopen and open; the
   * returned promise settles when this pass is over (failures go to `onError`).
   */
  retain(): Promise<void> {
    // A pass already running may have listed the files before this call's reason to run
    // (a rotation, a moved clock): one more pass is queued after it, never more than one.
    if (this.#retainQueued !== undefined) return this.#retainQueued;
    const pass: Promise<void> = (this.#retaining ?? Promise.resolve())
      .then(() => {
        if (this.#retainQueued === pass) this.#retainQueued = undefined;
        return this.#retainExpired();
      })
      .catch((err: unknown) => this.#onError?.(asError(err)))
      .finally(() => {
        if (this.#retaining === pass) this.#retaining = undefined;
      });
    this.#retainQueued = pass;
    this.#retaining = pass;
    return pass;
  }

  async #retainExpired(): Promise<void> {
    const { expired, remove } = this.sink;
    // Without both, no retention: a deletion is recorded only where it is then carried out.
    if (expired === undefined || remove === undefined) return;
    if (this.#refusal !== undefined || this.#closed) return;
    for (const file of await expired.call(this.sink)) {
      if (this.#closed) return;
      // Recorded first: a deletion the chain does not show never happens.
      await this.append({
        type: 'retention',
        sink: this.sink.name,
        deleted: {
          file: file.name,
          first_seq: file.firstSeq,
          last_seq: file.lastSeq,
          last_hash: file.lastHash,
          last_time: file.lastTime,
        },
      });
      await remove.call(this.sink, file);
    }
  }

  /**
   * Queues a rotation ahead of every waiting entry: the old file ends at a checkpoint, is moved
   * aside, and the new one starts with an `open` entry chaining to that checkpoint. Entries
   * queued meanwhile wait, and are acknowledged once written to the new file.
   */
  #queueRotation(): void {
    this.#rotating = true;
    let signed = false;
    const report = (err: unknown) => this.#onError?.(asError(err));
    const ended = (err?: unknown) => {
      this.#rotating = false;
      if (err === undefined) void this.retain();
      else report(err);
    };
    this.#queue.unshift(
      { kind: 'checkpoint', done: { resolve: () => (signed = true), reject: report } },
      {
        kind: 'task',
        // An unsigned end is never moved aside: the file is kept and rotated at the next chance.
        run: async () => {
          if (signed) await this.sink.rotate?.();
        },
        done: { resolve: () => {}, reject: report },
      },
      { kind: 'open', fields: {}, done: { resolve: () => ended(), reject: ended } },
    );
  }

  /** A `close` entry (a checkpoint follows it at once), then closes the sink. A refused sink is only closed. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    const closing =
      this.#refusal === undefined
        ? this.append({ type: 'close', sink: this.sink.name })
        : undefined;
    // Nothing after the close entry: a file sink would open its file again for it, and the
    // verifier would read an entry after the signed close as appended by someone else.
    this.#ended = true;
    await closing?.catch(() => {});
    await this.sink.close();
  }

  /** Checks the sink against the recorded chain and takes its last line as the head. */
  async #continue(state: ChainState): Promise<void> {
    try {
      const history = await this.sink.history?.();
      // A sink that cannot be read back (stdout) starts a new chain each time.
      if (history === undefined) return;
      const { last, start } = await checkContinuity(this.sink.name, history, state);
      if (last !== undefined) {
        const { seq } = JSON.parse(last) as { seq: number };
        this.#head = { seq, prev: lineHash(last), unsigned: 0, firstUnsignedMs: undefined };
      }
      if (start !== undefined) this.#onFileStart?.(start);
    } catch (err) {
      // Refused, or the sink could not even be read: nothing is written until an operator acts.
      this.#refusal =
        err instanceof ChainBroken
          ? err
          : new ChainBroken(
              this.sink.name,
              `the file could not be read back to check its chain (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
            );
      throw this.#refusal;
    }
  }

  #openFields(): Record<string, unknown> {
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
    if (this.#refusal !== undefined) return Promise.reject(this.#refusal);
    if (this.#ended)
      return Promise.reject(
        new ServerError('ERR_AUDIT_UNAVAILABLE', `audit sink ${this.sink.name} is closed`),
      );
    if (this.#queue.length + this.#inFlight >= this.#maxQueued) {
      return Promise.reject(
        new ServerError('ERR_AUDIT_UNAVAILABLE', `audit sink ${this.sink.name} is stuck`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(make({ resolve, reject }));
      this.#drainSoon();
    });
  }

  /**
   * Starts draining once this turn of the event loop is over, not at the first entry: entries
   * queued in the same turn (the requests that came in together, the responses of a batch
   * just written) go out in one write instead of one write for the first and one for the rest.
   */
  #drainSoon(): void {
    if (this.#draining || this.#drainDue) return;
    this.#drainDue = true;
    setImmediate(() => {
      this.#drainDue = false;
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        if (this.#refusal !== undefined) {
          // Refused while these waited (the check ran before them): none of them is written.
          for (const item of this.#queue.splice(0)) item.done.reject(this.#refusal);
          break;
        }
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
        if (!this.#rotating && this.#refusal === undefined && this.sink.rotationDue !== undefined) {
          let due = false;
          try {
            due = (await this.sink.rotationDue()) === true;
          } catch (err) {
            this.#onError?.(asError(err));
          }
          if (due) this.#queueRotation();
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #writeBatch(batch: readonly LineItem[]): Promise<void> {
    const before = this.#head;
    let head = before;
    const lines: string[] = [];
    const checkpoints: CheckpointRecord[] = [];
    // An open entry (due, or owed since a failed write) comes first in its batch: it alone
    // can start a new file, and says whether it does.
    const opening = batch[0]?.kind === 'open' ? batch[0] : undefined;
    const announce = opening !== undefined || this.#announce;
    this.#inFlight = batch.length;
    // Everything from opening the file to the write rejects the batch, never the drain: a
    // batch taken off the queue is always answered (a file that cannot be opened, an entry
    // that cannot be serialized).
    try {
      const startsFile = announce ? (await this.sink.startsFile?.()) === true : false;
      const emit = (fields: Record<string, unknown> | SerializedEntry, time: string) => {
        const seq = head.seq + 1;
        const serialized = fields instanceof SerializedEntry;
        // The same bytes either way: the chain's fields first, then the entry's own.
        const line = serialized
          ? `{"time":${JSON.stringify(time)},"seq":${seq},"prev":${JSON.stringify(head.prev)},${fields.json.slice(1)}`
          : JSON.stringify({ time, seq, prev: head.prev, ...fields });
        const signed = !serialized && fields.type === 'checkpoint';
        const hash = lineHash(line);
        head = {
          seq,
          prev: hash,
          unsigned: signed ? 0 : head.unsigned + 1,
          firstUnsignedMs: signed ? undefined : (head.firstUnsignedMs ?? Date.parse(time)),
        };
        lines.push(line);
        if (signed) checkpoints.push({ sink: this.sink.name, seq, hash, time });
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
      const items = opening === undefined && announce ? [undefined, ...batch] : batch;
      for (const item of items) {
        const time = this.#now().toISOString();
        if (item?.kind === 'checkpoint') {
          checkpoint(time);
          continue;
        }
        const body =
          item === undefined || item.kind === 'open'
            ? {
                ...this.#openFields(),
                starts_file: startsFile && lines.length === 0,
                ...item?.fields,
              }
            : item.body;
        // Never an entry T or more after the first unsigned one without a checkpoint between.
        if (
          head.firstUnsignedMs !== undefined &&
          Date.parse(time) - head.firstUnsignedMs >= this.#intervalMs
        )
          checkpoint(time);
        emit(body, time);
        if (head.unsigned >= this.#every || body.type === 'close') checkpoint(time);
      }
      if (lines.length > 0) await this.sink.write(lines.join('\n'));
      this.#head = head;
      this.#announce = false;
      if (startsFile) {
        const first = lines[0] as string;
        this.#onFileStart?.({
          seq: before.seq + 1,
          hash: lineHash(first),
          time: (JSON.parse(first) as { time: string }).time,
          previous: before.seq === 0 ? null : { seq: before.seq, hash: before.prev },
          cause: opening?.fields.new_file === undefined ? 'start' : 'new-file',
        });
      }
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
      if (announce) this.#announce = true;
      for (const item of batch) item.done.reject(err);
    } finally {
      this.#inFlight = 0;
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
