import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AeadKey } from '../crypto/aead.js';
import { CHUNK_WORKER_SOURCE } from './chunk-worker-source.js';

/**
 * A batch a worker answered: the sealed or opened pieces, the counter of a failed chunk (-1),
 * and the job's data buffer given back for reuse.
 */
export interface BatchResult {
  readonly pieces: Buffer[];
  readonly failed: number;
  readonly input: Buffer;
}

/** A batch to seal (`last`: it holds the last chunk) or to open (never the last chunk). */
export interface BatchJob {
  readonly op: 'seal' | 'open';
  readonly data: Buffer;
  readonly counter: number;
  readonly last: boolean;
}

/** Below this many cores the pool's overhead outweighs its parallelism. */
const MIN_POOL_CORES = 4;

/**
 * How many worker threads a pool runs: one per core, at most 4, on a machine of 4 cores or more;
 * none below. Handing batches to workers and taking them back costs about 2.5 times the CPU of
 * sealing them in place (measured with `/usr/bin/time` on a 512 MiB file, 2-core machine), so on
 * two or three cores the pool only slows a stream down. `CUSTOS_BACKUP_THREADS` (0 to 16)
 * overrides it; 0 keeps all the work on the calling thread.
 */
export function poolSize(): number {
  const override = process.env.CUSTOS_BACKUP_THREADS;
  if (override !== undefined && /^\d{1,2}$/.test(override)) return Math.min(Number(override), 16);
  const cores = availableParallelism();
  return cores < MIN_POOL_CORES ? 0 : Math.min(cores, 4);
}

/**
 * Worker threads sealing and opening batches of chunks under one payload key (the `KeyObject`
 * is cloned to them; its bytes never enter the JS heap). Jobs go round-robin; each answer comes
 * back as a transferred buffer. The workers keep the process alive only while a job is out, so a
 * consumer that abandons a stream does not hang the process; {@link close} ends them.
 */
export class ChunkPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<
    number,
    { resolve: (r: BatchResult) => void; reject: (e: unknown) => void }
  >();
  #next = 0;
  #id = 0;
  #failure: unknown;

  constructor(key: AeadKey, size: number) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(CHUNK_WORKER_SOURCE, {
        eval: true,
        workerData: { key: key.keyObject },
      });
      worker.on(
        'message',
        (answer: { id: number; pieces: Uint8Array[]; input: Uint8Array; failed: number }) => {
          const waiting = this.#waiting.get(answer.id);
          this.#waiting.delete(answer.id);
          this.#refIfBusy();
          waiting?.resolve({
            pieces: answer.pieces.map(asBuffer),
            failed: answer.failed,
            input: asBuffer(answer.input),
          });
        },
      );
      worker.on('error', (err) => this.#fail(err));
      worker.unref();
      return worker;
    });
  }

  /** Runs `job` on the next worker; its data buffer is transferred (unusable afterwards). */
  run(job: BatchJob): Promise<BatchResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#id++;
    const worker = this.#workers[this.#next++ % this.#workers.length] as Worker;
    const answer = new Promise<BatchResult>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
    });
    this.#refIfBusy();
    worker.postMessage({ id, ...job }, [job.data.buffer as ArrayBuffer]);
    return answer;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #refIfBusy(): void {
    for (const worker of this.#workers) {
      if (this.#waiting.size > 0) worker.ref();
      else worker.unref();
    }
  }

  #fail(err: unknown): void {
    this.#failure = err;
    for (const { reject } of this.#waiting.values()) reject(err);
    this.#waiting.clear();
    this.#refIfBusy();
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
