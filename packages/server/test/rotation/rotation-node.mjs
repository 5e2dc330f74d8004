/**
 * One custos server process for the multi-process rotation tests (rotation-kill.test.ts,
 * rotation-leader.test.ts): the built server on the PostgreSQL storage the test names, with a
 * `steps` rotator that prints each step's begin and end (so the test can SIGKILL it at a
 * chosen point) and keeps the values it sets in a table of the test's schema (the "target
 * system": a value works when it is there). Its clock is the real one plus an offset read from
 * a file the test writes (to make schedules due). Prints `READY <url>` once listening.
 *
 * Environment: STORAGE (PostgreSQL location), TARGET_URL and TARGET_SCHEMA (the table's
 * database and schema), NAME, PORT, CLOCK_FILE, TICK_MS, STALE_MS, STEP_DELAY_MS, LEASE_MS.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { builtInRotators, startServer } from '../../dist/index.js';

const env = process.env;
const name = env.NAME ?? 'node';
const delay = Number(env.STEP_DELAY_MS ?? 20);
let offsetMs = 0;
const readOffset = () => {
  try {
    offsetMs = Number(readFileSync(env.CLOCK_FILE ?? '', 'utf8')) || 0;
  } catch {
    offsetMs = 0;
  }
};
readOffset();
setInterval(readOffset, 50).unref();

const target = new pg.Pool({
  connectionString: env.TARGET_URL,
  options: `-c search_path=${env.TARGET_SCHEMA}`,
  max: 2,
});
const say = (line) => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one step between its two markers (END also when it failed, before that is saved). */
async function step(label, context, work) {
  say(`BEGIN ${name} ${context.secret.key} ${label} ${context.rotationId}`);
  await sleep(delay);
  try {
    return await work();
  } finally {
    await sleep(delay);
    say(`END ${name} ${context.secret.key} ${label} ${context.rotationId}`);
  }
}

const accept = (secret, value) =>
  target.query('insert into accepted (secret, value) values ($1, $2) on conflict do nothing', [
    secret,
    value,
  ]);
const drop = (secret, value) =>
  target.query('delete from accepted where secret = $1 and value = $2', [secret, value]);

const rotators = builtInRotators();
const steps = {
  name: 'steps',
  checkSettings() {},
  create: (c) => step('create', c, async () => ({ value: randomBytes(12).toString('hex') })),
  set: (c) => step('set', c, () => accept(c.secret.key, c.pending.value)),
  test: (c) =>
    step('test', c, async () => {
      if (c.settings.fail_test === true) throw new Error('the target refused the new value');
      const found = await target.query('select 1 from accepted where secret = $1 and value = $2', [
        c.secret.key,
        c.pending.value,
      ]);
      if (found.rowCount !== 1) throw new Error('the new value does not work');
    }),
  // Nothing to do once the labels moved; marked, so the test can kill the node around it.
  finish: (c) => step('finish', c, async () => {}),
  rollback: (c) => step('rollback', c, () => drop(c.secret.key, c.pending.value)),
  retire: (c) => step('retire', c, () => drop(c.secret.key, c.previous.value)),
};
rotators.register(steps);
// The same, with background work (as a rewrap): ten slices of 30 ms, stopping when told to;
// each completion is recorded with the node that did it.
rotators.register({
  ...steps,
  name: 'steps-bg',
  background: (c) =>
    step('background', c, async () => {
      for (let i = 0; i < 10; i++) {
        c.signal.throwIfAborted();
        await sleep(30);
      }
      await target.query('insert into background_runs (rotation_id, node) values ($1, $2)', [
        c.rotationId,
        name,
      ]);
    }),
});

const server = await startServer({
  storage: env.STORAGE,
  port: Number(env.PORT ?? 0),
  host: '127.0.0.1',
  logLevel: 'silent',
  clock: () => Date.now() + offsetMs,
  rotators,
  rotationSchedulerIntervalMs: Number(env.TICK_MS ?? 200),
  rotationScheduler: { jitterMs: 0, staleRunMs: Number(env.STALE_MS ?? 1000) },
  rotationBackgroundLeaseMs: Number(env.LEASE_MS ?? 60_000),
  rotationRunLeaseMs: Number(env.RUN_LEASE_MS ?? 1000),
});
say(`READY ${server.url}`);
process.once('SIGTERM', () => {
  void server
    .close()
    .then(() => target.end())
    .then(() => process.exit(0));
});
