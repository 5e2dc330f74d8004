import { parentPort, Worker } from 'node:worker_threads';

/**
 * Worker threads kept warm between scans. A scan thread spends its first megabytes compiling
 * and optimising the rules' code; a process that scans again (an application, the dashboard,
 * a benchmark) would pay that again with every new thread. So a thread that finished a job
 * waits here, idle, for the next job of the same script, and ends after {@link IDLE_MS} without
 * one. An idle thread never keeps the process alive (it is unref'd), and at most
 * {@link MAX_IDLE} wait per script.
 */

/** How long an idle thread waits for a job before it ends (ms). */
export const IDLE_MS = 30_000;
/** Idle threads kept per script; more are ended as they finish. */
export const MAX_IDLE = 8;

/** A message a worker posts: `done` ends its job. */
interface JobMessage {
  readonly type: string;
}

interface IdleThread {
  readonly worker: Worker;
  readonly timer: NodeJS.Timeout;
}

const idle = new Map<string, IdleThread[]>();
let started = 0;

/** Threads started since the process began (for tests: a warm thread is not counted again). */
export function threadsStarted(): number {
  return started;
}

/** Threads of `script` waiting for a job. */
export function idleThreads(script: URL): number {
  return idle.get(script.href)?.length ?? 0;
}

function removeIdle(script: URL, worker: Worker): IdleThread | undefined {
  const list = idle.get(script.href);
  const index = list?.findIndex((thread) => thread.worker === worker) ?? -1;
  if (list === undefined || index === -1) return undefined;
  const [thread] = list.splice(index, 1);
  if (thread !== undefined) clearTimeout(thread.timer);
  return thread;
}

function startThread(script: URL): Worker {
  const worker = new Worker(script);
  started++;
  // An idle thread that ends (its timer, or a crash between jobs) leaves the pool.
  worker.once('exit', () => removeIdle(script, worker));
  return worker;
}

function takeThread(script: URL): Worker {
  const thread = idle.get(script.href)?.pop();
  if (thread === undefined) return startThread(script);
  clearTimeout(thread.timer);
  thread.worker.ref();
  return thread.worker;
}

function releaseThread(script: URL, worker: Worker, idleMs: number): void {
  const list = idle.get(script.href) ?? [];
  if (list.length >= MAX_IDLE) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    removeIdle(script, worker);
    void worker.terminate();
  }, idleMs);
  timer.unref();
  list.push({ worker, timer });
  idle.set(script.href, list);
}

/**
 * Runs one job on a thread of `script` (a warm idle one when there is, else a new one): `job`
 * is posted to it, each message it posts goes to `onMessage` until it posts `{ type: 'done' }`.
 * Rejects if the thread fails or exits before it is done; such a thread is not used again.
 * The script serves jobs with {@link serveJobs}.
 *
 * @example
 * ```ts
 * await runJob(new URL('./scan-worker.js', import.meta.url), request, (reply) => record(reply));
 * ```
 */
export function runJob<Message extends JobMessage>(
  script: URL,
  job: unknown,
  onMessage: (message: Message) => void,
  options: { readonly idleMs?: number } = {},
): Promise<void> {
  const worker = takeThread(script);
  return new Promise((resolve, reject) => {
    const stop = () => {
      worker.off('message', message);
      worker.off('error', failed);
      worker.off('exit', exited);
    };
    const message = (reply: Message) => {
      if (reply.type !== 'done') {
        onMessage(reply);
        return;
      }
      stop();
      releaseThread(script, worker, options.idleMs ?? IDLE_MS);
      resolve();
    };
    const failed = (error: Error) => {
      stop();
      void worker.terminate();
      reject(error);
    };
    const exited = (code: number) => {
      stop();
      reject(new Error(`a scan worker stopped before finishing (exit code ${code})`));
    };
    worker.on('message', message);
    worker.once('error', failed);
    worker.once('exit', exited);
    worker.postMessage(job);
  });
}

/**
 * In a worker thread: runs each job posted to it with `run`, one at a time, then posts
 * `{ type: 'done' }`. A job that throws ends the thread with that error (its `runJob` rejects).
 *
 * @example
 * ```ts
 * serveJobs<Request>(async (request, post) => post({ type: 'file', result: await scan(request) }));
 * ```
 */
export function serveJobs<Job, Reply extends JobMessage>(
  run: (job: Job, post: (message: Reply) => void) => Promise<void>,
): void {
  const port = parentPort;
  if (port === null) throw new Error('serveJobs runs in a worker thread');
  const post = (message: JobMessage) => port.postMessage(message);
  port.on('message', (job: Job) => {
    run(job, post).then(
      () => post({ type: 'done' }),
      (error: unknown) => {
        // Thrown outside the promise: the thread ends with it, and its `error` event carries it.
        setImmediate(() => {
          throw error;
        });
      },
    );
  });
}
