/**
 * The crash test of `custos reencrypt`: a table of some 100 batches, the command killed with SIGKILL at
 * random points again and again (the key rotated after the third kill, and whenever a run gets
 * to finish), while the "application" keeps writing rows, many just ahead of the checkpoint
 * where the command is about to write; then one run to the end, and every row checked.
 *
 * - Kills follow observed progress, never elapsed time. Each run generation (target keys) gets
 *   kill points drawn at random across both passes, re-encryption and verification, at least
 *   one in each; the test watches the checkpoint in the database and kills once it reaches the
 *   next point. The command is then somewhere in its next batch (reading, re-encrypting or
 *   committing), so kills land mid-batch too. On a slow or busy machine they land just as far
 *   into the work, only later on the clock.
 * - After each kill the checkpoint must belong to the current keys and hold at least the
 *   progress seen before the kill: committed batches survive SIGKILL and are never redone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Keyring, writeKeyringFile } from '@custos/core/crypto';
import { createFieldCipher, type FieldCipher } from '@custos/core/fields';
import { expect } from 'vitest';
import { bin } from './cli.js';

/** The checkpoint row as stored (`custos_reencrypt_checkpoint`). */
export interface StoredCheckpoint {
  readonly phase: string;
  readonly last_id: string | null;
  readonly target_keys: string;
  readonly stats: string;
}

/** The table under test, reached by the test directly (the "application"). */
export interface KillTestTable {
  /** `--db` for the command. */
  readonly location: string;
  /** Creates `patients (id integer primary key, ssn text, email text)` with these rows. */
  create(rows: readonly { id: number; ssn: string; email: string }[]): Promise<void>;
  /** The application's write of one row's ssn. */
  writeSsn(id: number, ssn: string): Promise<void>;
  readAll(): Promise<{ id: number; ssn: string; email: string }[]>;
  /** The checkpoint row, if the table has one yet. */
  checkpoint(): Promise<StoredCheckpoint | undefined>;
}

export interface KillTestOptions {
  readonly table: KillTestTable;
  readonly keyringFile: string;
  readonly rows: number;
  readonly kills: number;
}

// 100 batches per pass: many places for a kill to land, in a table small enough that a busy
// machine still gets through it (the kill points, not the row count, are under test).
const BATCH = 100;
/** How often the test looks at the checkpoint: it bounds how late a kill lands, not when. */
const POLL_MS = 20;
const ssnContext = (id: number) => ({ table: 'patients', column: 'ssn', rowId: id });
const emailContext = { table: 'patients', column: 'email', deterministic: true } as const;
const PHASES = ['reencrypt', 'verify', 'done'];

/** What happened, for the test's report. */
export interface KillTestSummary {
  readonly kills: number;
  /** Runs that finished before their kill (each followed by another rotation). */
  readonly completedRuns: number;
  /** Key rotations, including one after the third kill, while a run was pending. */
  readonly rotations: number;
  readonly applicationWrites: number;
  /** Where the kills landed: the checkpoint's phase just after each. */
  readonly killedIn: Readonly<Record<string, number>>;
  /** Rows the application changed between the command's read and its write, kept (all runs). */
  readonly conflicts: number;
}

/** Runs the whole scenario and checks the outcome with `expect`. */
export async function runKillTest(options: KillTestOptions): Promise<KillTestSummary> {
  const { table, keyringFile } = options;
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  await writeKeyringFile(keyringFile, keyring);
  let fc: FieldCipher = createFieldCipher({ keyring });

  const expected = new Map<number, { ssn: string; email: string }>();
  const initial = Array.from({ length: options.rows }, (_, i) => {
    const id = i + 1;
    expected.set(id, { ssn: `ssn-${id}`, email: `user${id}@example.com` });
    return {
      id,
      ssn: fc.encrypt(`ssn-${id}`, ssnContext(id)),
      email: fc.encrypt(`user${id}@example.com`, { ...emailContext, rowId: id }),
    };
  });
  await table.create(initial);

  const rotate = async () => {
    keyring.rotate('default');
    keyring.rotate('deterministic');
    await writeKeyringFile(keyringFile, keyring);
    fc = createFieldCipher({ keyring });
  };
  let kills = 0;
  let completedRuns = 0;
  let rotations = 1;
  const killedIn: Record<string, number> = {};
  let appWrites = 0;
  // Conflicts per run generation (target keys): the checkpoint's counter only grows within one.
  const conflicts = new Map<string, number>();
  const noteConflicts = (checkpoint: StoredCheckpoint | undefined) => {
    if (checkpoint === undefined) return;
    const seen = (JSON.parse(checkpoint.stats) as { conflicts: number }).conflicts;
    conflicts.set(
      checkpoint.target_keys,
      Math.max(conflicts.get(checkpoint.target_keys) ?? 0, seen),
    );
  };
  let lastKill: { targetKeys: string; position: number[] } | undefined;
  await rotate();
  const progressOf = (checkpoint: StoredCheckpoint | undefined) =>
    linearProgress(positionOf(checkpoint), options.rows);

  let plan: { targetKeys: string; points: number[] } | undefined;
  const startedAt = performance.now(); // for the verbose report only

  for (let trial = 0; kills < options.kills && trial < options.kills * 3; trial++) {
    const targetKeys = JSON.stringify(fc.currentKeys());
    if (plan?.targetKeys !== targetKeys) {
      plan = { targetKeys, points: killPoints(options.kills - kills, options.rows) };
    }
    // The next kill point past where this generation stood at the previous kill; none left:
    // the run goes to the end.
    const from =
      lastKill?.targetKeys === targetKeys ? linearProgress(lastKill.position, options.rows) : 0;
    while ((plan.points[0] ?? Number.POSITIVE_INFINITY) <= from) plan.points.shift();
    const killAt = plan.points.shift() ?? Number.POSITIVE_INFINITY;
    const child = reencrypt(table.location, keyringFile);
    const exited = exitOf(child);
    // The application keeps writing under the primary the command re-encrypts to: half its
    // writes land just ahead of the checkpoint, in the batch the command is working on.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const ahead = appWrites % 2 === 0 ? await checkpointId(table) : undefined;
        const id =
          ahead === undefined
            ? 1 + Math.floor(Math.random() * options.rows)
            : Math.min(options.rows, ahead + 1 + Math.floor(Math.random() * BATCH));
        const ssn = `app-${trial}-${appWrites}`;
        await table.writeSsn(id, fc.encrypt(ssn, ssnContext(id)));
        expected.set(id, { ...(expected.get(id) as { email: string }), ssn });
        appWrites++;
        await sleep(10);
      }
    })();
    try {
      const { seen, lowest } = await progressReached(table, targetKeys, killAt, child, progressOf);
      if (seen !== undefined) child.kill('SIGKILL');
      const outcome = await exited;
      // A run of the same keys resumes where the previous kill left it, never from the start.
      if (lowest !== undefined) {
        expect(lowest, `trial ${trial}: resumed, did not start over`).toBeGreaterThanOrEqual(from);
      }
      if (outcome.signal === 'SIGKILL') {
        kills++;
        const checkpoint = await table.checkpoint();
        const phase = checkpoint?.phase ?? 'none';
        killedIn[phase] = (killedIn[phase] ?? 0) + 1;
        // The run made progress under the current keys (it resumed, or started over after a
        // rotation), past where the previous kill left it.
        expect(checkpoint?.target_keys, `kill ${kills}: checkpoint of the current keys`).toBe(
          JSON.stringify(fc.currentKeys()),
        );
        // What was committed before the kill is still there.
        expect(
          progressOf(checkpoint),
          `kill ${kills}: committed progress kept`,
        ).toBeGreaterThanOrEqual(seen as number);
        const at = {
          targetKeys: checkpoint?.target_keys as string,
          position: positionOf(checkpoint),
        };
        if (lastKill?.targetKeys === at.targetKeys) {
          expect(
            compare(at.position, lastKill.position),
            `kill ${kills}: checkpoint advanced`,
          ).toBe(1);
        }
        lastKill = at;
        noteConflicts(checkpoint);
        if (kills === 3 || checkpoint?.phase === 'done') {
          // A rotation while a run is pending: the next run must start over, not resume. (A
          // run killed after its last commit is finished: rotate to give the next one work.)
          await rotate();
          rotations++;
        }
      } else {
        expect(outcome, 'a run that was not killed succeeds').toMatchObject({ code: 0 });
        completedRuns++;
        noteConflicts(await table.checkpoint());
        // Give the next trials something to do: rotate again.
        await rotate();
        rotations++;
      }
    } finally {
      // Stop the application's writer even when a check fails, before the table goes away.
      writing = false;
      await writer;
    }
    if (process.env.CUSTOS_TEST_VERBOSE === '1') {
      const at = await table.checkpoint();
      const elapsed = ((performance.now() - startedAt) / 1000).toFixed(1);
      console.warn(`trial ${trial} (kill at ${killAt}): ${at?.phase} ${at?.last_id}, ${elapsed} s`);
    }
  }
  expect(kills).toBeGreaterThanOrEqual(options.kills);
  expect(killedIn.reencrypt ?? 0, 'kills in the re-encryption pass').toBeGreaterThan(0);
  expect(killedIn.verify ?? 0, 'at least one kill in the verification pass').toBeGreaterThan(0);

  const final = await exitOf(reencrypt(table.location, keyringFile));
  expect(final.code, final.stderr).toBe(0);
  const done = await table.checkpoint();
  expect(done?.phase).toBe('done');
  noteConflicts(done);

  const rows = await table.readAll();
  expect(rows).toHaveLength(options.rows);
  const primary = fc.currentKeys();
  for (const row of rows) {
    const want = expected.get(row.id);
    expect(fc.decrypt(row.ssn, ssnContext(row.id))).toBe(want?.ssn);
    expect(fc.decrypt(row.email, emailContext)).toBe(want?.email);
    const ssn = fc.describe(row.ssn);
    const email = fc.describe(row.email);
    if (!ssn.current || !email.current) {
      throw new Error(
        `row ${row.id} is not at the primary (${ssn.keyVersion}, ${email.keyVersion})`,
      );
    }
  }
  expect(primary.randomized.keyVersion).toBe(1 + rotations);
  expect(appWrites).toBeGreaterThan(0);
  const totalConflicts = [...conflicts.values()].reduce((a, b) => a + b, 0);
  expect(totalConflicts, 'application writes raced the command and were kept').toBeGreaterThan(0);
  return {
    kills,
    completedRuns,
    rotations,
    applicationWrites: appWrites,
    killedIn,
    conflicts: totalConflicts,
  };
}

/** Where a checkpoint stands: phase, then the last id of that phase. */
function positionOf(checkpoint: StoredCheckpoint | undefined): number[] {
  if (checkpoint === undefined) return [-1, 0];
  const lastId = checkpoint.last_id === null ? 0 : Number(JSON.parse(checkpoint.last_id));
  return [PHASES.indexOf(checkpoint.phase), lastId];
}

/** A position as one number: rows of the phases before it, then the last id in its phase. */
function linearProgress(position: readonly number[], rows: number): number {
  const [phase, lastId] = position as [number, number];
  return phase < 0 ? -1 : phase * rows + lastId;
}

/**
 * `count` kill points (linear progress, see {@link linearProgress}), sorted: distinct batch
 * boundaries drawn at random over both passes, at least one in each.
 */
function killPoints(count: number, rows: number): number[] {
  const batches = Math.ceil(rows / BATCH);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, 2 * batches - 1)) {
    chosen.add(1 + Math.floor(Math.random() * (2 * batches - 1)));
  }
  const points = [...chosen].map((b) => (b < batches ? b * BATCH : rows + (b - batches) * BATCH));
  points.sort((a, b) => a - b);
  // A pass the random draw left without a point gets one in its middle.
  if (!points.some((p) => p >= rows)) points.push(rows + BATCH * Math.floor(batches / 2));
  if (!points.some((p) => p < rows)) points.unshift(BATCH * Math.floor(batches / 2));
  return points;
}

/**
 * Watches the checkpoint until it belongs to `targetKeys` and stands at `target` or beyond.
 * Returns the progress seen then (`undefined` if the child exited first) and the lowest
 * progress seen under `targetKeys` on the way (a run that started over shows up there).
 */
async function progressReached(
  table: KillTestTable,
  targetKeys: string,
  target: number,
  child: ChildProcess,
  progressOf: (checkpoint: StoredCheckpoint | undefined) => number,
): Promise<{ seen: number | undefined; lowest: number | undefined }> {
  let lowest: number | undefined;
  while (child.exitCode === null && child.signalCode === null) {
    const checkpoint = await table.checkpoint().catch(() => undefined);
    if (checkpoint?.target_keys === targetKeys) {
      const progress = progressOf(checkpoint);
      lowest = Math.min(lowest ?? progress, progress);
      if (progress >= target) return { seen: progress, lowest };
    }
    await sleep(POLL_MS);
  }
  return { seen: undefined, lowest };
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** The id the command's re-encryption pass last committed, while it is in that pass. */
async function checkpointId(table: KillTestTable): Promise<number | undefined> {
  const checkpoint = await table.checkpoint().catch(() => undefined);
  if (checkpoint?.phase !== 'reencrypt') return undefined;
  return checkpoint.last_id === null ? 0 : Number(JSON.parse(checkpoint.last_id));
}

function reencrypt(location: string, keyringFile: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      bin,
      'reencrypt',
      '--db',
      location,
      '--table',
      'patients',
      '--columns',
      'ssn,email',
      '--keyring',
      keyringFile,
      '--batch',
      String(BATCH),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.resume();
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
