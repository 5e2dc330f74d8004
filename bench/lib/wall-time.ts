import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs `command args` `runs` times in `cwd` and prints each wall time in ms, as JSON. It runs in
 * a small process of its own: forking the bench process (a gigabyte or more once the scans have
 * run) costs tens of milliseconds per child, which a hook started by git never pays.
 */
const TIMER = `
const { spawnSync } = require('node:child_process');
const [command, runs, ...args] = JSON.parse(process.argv[1]);
const times = [];
for (let i = 0; i < runs; i++) {
  const started = process.hrtime.bigint();
  const done = spawnSync(command, args, { stdio: 'ignore' });
  if (done.status !== 0 && done.status !== 1) {
    process.stderr.write(command + ' ' + args.join(' ') + ' exited with ' + (done.error?.message ?? done.status ?? done.signal) + '\\n');
    process.exit(2);
  }
  times.push(Number(process.hrtime.bigint() - started) / 1e6);
}
process.stdout.write(JSON.stringify(times));
`;

/**
 * The median wall time in ms of `runs` runs of `command args` in `cwd`, timed from a small
 * process (see {@link TIMER}). Exit status 0 or 1 counts as a run (1: a scanner's findings);
 * any other fails the measurement.
 *
 * @example
 * ```ts
 * const ms = await medianWallMs(process.execPath, ['-e', '0'], process.cwd(), 9);
 * ```
 */
export async function medianWallMs(
  command: string,
  args: readonly string[],
  cwd: string,
  runs: number,
): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['-e', TIMER, JSON.stringify([command, runs, ...args])],
    { cwd },
  );
  const times = (JSON.parse(stdout) as number[]).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}
