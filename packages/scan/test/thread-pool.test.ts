import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The built module (worker threads run JavaScript): the same instance the package uses.
const POOL = new URL('../dist/files/thread-pool.js', import.meta.url);
const pool = (await import(POOL.href)) as typeof import('../src/files/thread-pool.js');

type Reply = { type: 'thread'; id: number } | { type: 'done' };

/**
 * A worker script serving jobs: it answers with its thread id, throws when asked to, or exits
 * in the middle of a job.
 */
const WORKER = `
import { threadId } from 'node:worker_threads';
import { serveJobs } from ${JSON.stringify(POOL.href)};
serveJobs(async (job, post) => {
  if (job.exit !== undefined) process.exit(job.exit);
  if (job.fail) throw new Error('the job failed on purpose');
  post({ type: 'thread', id: threadId });
});
`;

describe('scan threads kept warm between jobs', () => {
  let dir: string;
  let script: URL;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-thread-pool-'));
    await writeFile(join(dir, 'worker.mjs'), WORKER);
    script = pathToFileURL(join(dir, 'worker.mjs'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const job = async (request: object, idleMs = 60_000): Promise<number[]> => {
    const ids: number[] = [];
    await pool.runJob<Reply>(
      script,
      request,
      (reply) => {
        if (reply.type === 'thread') ids.push(reply.id);
      },
      { idleMs },
    );
    return ids;
  };

  it('runs the next job on the thread that finished the last one', async () => {
    const before = pool.threadsStarted();
    const [first] = await job({});
    expect(pool.idleThreads(script)).toBe(1);
    const [second] = await job({});
    expect(second).toBe(first);
    expect(pool.threadsStarted()).toBe(before + 1);
    expect(pool.idleThreads(script)).toBe(1);
  });

  it('gives jobs running together a thread each, and keeps both', async () => {
    const before = pool.threadsStarted();
    const idleBefore = Math.min(pool.idleThreads(script), 3);
    const [[a], [b], [c]] = await Promise.all([job({}), job({}), job({})]);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(pool.threadsStarted()).toBe(before + 3 - idleBefore);
    expect(pool.idleThreads(script)).toBeGreaterThanOrEqual(3);
  });

  it('rejects with the error a job throws, and never uses that thread again', async () => {
    const [warm] = await job({});
    const idle = pool.idleThreads(script);
    // The last thread to finish is the first taken again: the one that just answered.
    await expect(job({ fail: true })).rejects.toThrow('the job failed on purpose');
    expect(pool.idleThreads(script)).toBe(idle - 1);
    const [next] = await job({});
    expect(next).not.toBe(warm);
  });

  it('rejects when a thread exits in the middle of a job', async () => {
    await job({});
    const idle = pool.idleThreads(script);
    await expect(job({ exit: 3 })).rejects.toThrow(
      'a scan worker stopped before finishing (exit code 3)',
    );
    expect(pool.idleThreads(script)).toBe(idle - 1);
  });

  it('ends a thread left idle for its time', async () => {
    for (let i = pool.idleThreads(script); i > 0; i--) await job({}, 1);
    await job({}, 1);
    await vi.waitFor(() => expect(pool.idleThreads(script)).toBe(0));
  });

  it('never keeps the process alive', async () => {
    // A process whose only work is one job: it must end on its own, long before the idle time.
    const code = `
      import { runJob, idleThreads } from ${JSON.stringify(POOL.href)};
      const script = new URL(${JSON.stringify(script.href)});
      await runJob(script, {}, () => {});
      console.log('idle', idleThreads(script));
    `;
    await writeFile(join(dir, 'one-job.mjs'), code);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(dir, 'one-job.mjs')],
      // A process kept alive by its idle thread would run for IDLE_MS (30 s): killed first.
      { timeout: 20_000 },
    );
    expect(pool.IDLE_MS).toBe(30_000);
    expect(stdout.trim()).toBe('idle 1');
  }, 60_000);
});
