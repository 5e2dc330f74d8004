import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalKms } from '@custos/core/kms';
import { compare, type Measurement } from '../lib/measure.js';
import type { Section, Table } from '../lib/report.js';

const rewrapChild = fileURLToPath(new URL('../lib/transit-rewrap-child.ts', import.meta.url));
const peakMemoryPreload = fileURLToPath(new URL('../lib/report-peak-memory.cjs', import.meta.url));

/**
 * One `transit-key` rotation over `rows` stored ciphertexts in a child process: from the
 * rotation request until its background work (the rewrap) is done.
 */
async function rewrapRun(rows: number): Promise<Measurement> {
  const child = spawn(
    process.execPath,
    ['--require', peakMemoryPreload, '--expose-gc', '--import', 'tsx', rewrapChild, String(rows)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`the rewrap run failed (${code}): ${stderr}`);
  const { seconds, startRssKiB, rewrapPeakRssKiB, polls, heapAfterGcKiB, externalAfterGcKiB } =
    JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      seconds: number;
      startRssKiB: number;
      rewrapPeakRssKiB: number;
      polls: number;
      heapAfterGcKiB: number;
      externalAfterGcKiB: number;
    };
  const peak = /custos-bench-peak-rss-kib: (\d+)/.exec(stderr);
  if (peak === null) throw new Error('the rewrap run did not report its peak memory');
  const peakRssMiB = Number(peak[1]) / 1024;
  const rewrapPeakRssMiB = rewrapPeakRssKiB / 1024;
  return {
    name: `background rewrap, ${rows.toLocaleString('en-US')} ciphertexts`,
    opsPerSecond: rows / seconds,
    spread: 0,
    details: {
      'RSS at the rotation': `${(startRssKiB / 1024).toFixed(0)} MiB`,
      'peak RSS during the rewrap': `${rewrapPeakRssMiB.toFixed(0)} MiB`,
      'peak RSS of the run (table fill included)': `${peakRssMiB.toFixed(0)} MiB`,
      'history polls answered until done': String(polls),
      'V8 heap used after a forced gc at the end': `${(heapAfterGcKiB / 1024).toFixed(1)} MiB`,
      'external memory after that gc': `${(externalAfterGcKiB / 1024).toFixed(1)} MiB`,
    },
    figures: { peakRssMiB, rewrapPeakRssMiB, heapAfterGcMiB: heapAfterGcKiB / 1024 },
  };
}

/**
 * The ceiling: transit rewrap calls in a bare loop in this process (`LocalKms.rewrap`, the
 * same decrypt and encrypt building blocks as the server's transit), no storage, no database.
 */
function bareLoop(): Measurement {
  const kms = new LocalKms();
  kms.createKey('bench');
  const plaintext = Buffer.from('x'.repeat(32));
  const ciphertexts = Array.from(
    { length: 1_000 },
    () => kms.encrypt('bench', plaintext).ciphertext,
  );
  kms.rotate('bench');
  let i = 0;
  const [row] = compare([
    {
      name: 'bare loop: transit rewrap in-process (LocalKms.rewrap)',
      run: () => kms.rewrap('bench', ciphertexts[i++ % ciphertexts.length] as string),
    },
  ]);
  return row as Measurement;
}

/**
 * The `transit-key` rotator's rewrap of stored ciphertexts (one SQLite column) as background
 * work after the rotation answered, at a quarter of the row count and at the full count: rows/s
 * from the rotation request until the background work is done, and the child's peak RSS; beside
 * a bare in-process loop of rewrap calls. Rows: `CUSTOS_BENCH_REWRAP_ROWS` (default 100,000).
 */
export async function rewrapSuite(): Promise<Section> {
  const total = Number(process.env.CUSTOS_BENCH_REWRAP_ROWS ?? 100_000);
  const bare = bareLoop();
  const rows = [await rewrapRun(Math.round(total / 4)), await rewrapRun(total)];
  const [small, large] = rows.map((row) => row.name) as [string, string];
  const table: Table = {
    title:
      'transit-key rotation: background rewrap of stored ciphertexts (SQLite column, batches of 1,000), rows/s',
    baseline: bare.name,
    rows: [bare, ...rows],
    goals: [
      {
        description: 'rewrap rows/s holds as the table grows (keyset pagination)',
        candidate: large,
        against: small,
        atLeast: 0.8,
      },
      {
        description:
          'rewrap memory stays flat as the table grows: heap retained after a gc (one batch held)',
        candidate: large,
        against: small,
        figure: 'heapAfterGcMiB',
        atMost: 1.25,
      },
    ],
  };
  return {
    heading: 'Rotation: background rewrap (`transit-key`)',
    notes: [
      'A `transit-key` rotation (docs/rotation.md) over one SQLite column of transit ciphertexts,',
      'server and database in one child process: rows/s from `POST sys/rotate-secret` until the',
      "rotation's background work (the rewrap, which runs after the answer) is `done` in",
      '`sys/rotation-history` (polled every 20 ms; the rewrap gives the event loop a turn after',
      'every batch, so the polls are answered while it runs). Memory: what the rewrap retains is',
      'judged — the V8 heap still used after a forced full gc at the end (and the external memory) —',
      "beside the RSS when the rotation is asked for, the highest RSS sampled at each poll and the run's",
      'getrusage high-water mark (which includes filling the table in batches of 5,000 through the',
      'API). RSS follows when V8 runs its major collections, not what is held: five identical 100,000-',
      'row runs ended between 240 and 300 MiB, all with ~35 MiB of heap after a gc (see',
      'bench/NOTES-rewrap-memory.md). The bare loop is',
      'the ceiling: `LocalKms.rewrap` on 32-byte values in this process, with no storage, no',
      'database reads or compare-and-swap writes and no progress saved behind the barrier.',
    ].join('\n'),
    tables: [table],
  };
}
