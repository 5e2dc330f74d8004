/**
 * The crash test of `custos reencrypt`: a 100,000-row table, the command killed with SIGKILL at
 * random points again and again (the key rotated after the third kill, and whenever a run gets
 * to finish), while the "application" keeps writing rows; then one run to the end, and every
 * row checked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Keyring, writeKeyringFile } from '@custos/core/crypto';
import { createFieldCipher, type FieldCipher } from '@custos/core/fields';
import { expect } from 'vitest';

const bin = fileURLToPath(new URL('../../../bin/custos.js', import.meta.url));

/** The table under test, reached by the test directly (the "application"). */
export interface KillTestTable {
  /** `--db` for the command. */
  readonly location: string;
  /** Creates `patients (id integer primary key, ssn text, email text)` with these rows. */
  create(rows: readonly { id: number; ssn: string; email: string }[]): Promise<void>;
  /** The application's write of one row's ssn. */
  writeSsn(id: number, ssn: string): Promise<void>;
  readAll(): Promise<{ id: number; ssn: string; email: string }[]>;
  checkpointPhase(): Promise<string | undefined>;
}

export interface KillTestOptions {
  readonly table: KillTestTable;
  readonly keyringFile: string;
  readonly rows: number;
  readonly kills: number;
  readonly killAfterMs: readonly [number, number];
}

const ssnContext = (id: number) => ({ table: 'patients', column: 'ssn', rowId: id });
const emailContext = { table: 'patients', column: 'email', deterministic: true } as const;

/** What happened, for the test's report. */
export interface KillTestSummary {
  readonly kills: number;
  /** Runs that finished before their kill (each followed by another rotation). */
  readonly completedRuns: number;
  /** Key rotations, including one after the third kill, while a run was pending. */
  readonly rotations: number;
  readonly applicationWrites: number;
  /** Where the kills landed: the checkpoint's phase just after each (none: before the first). */
  readonly killedIn: Readonly<Record<string, number>>;
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
  await rotate();

  for (let trial = 0; kills < options.kills && trial < options.kills * 3; trial++) {
    const child = reencrypt(table.location, keyringFile);
    const exited = exitOf(child);
    // The application keeps writing (under the primary the command re-encrypts to).
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const id = 1 + Math.floor(Math.random() * options.rows);
        const ssn = `app-${trial}-${appWrites}`;
        await table.writeSsn(id, fc.encrypt(ssn, ssnContext(id)));
        expected.set(id, { ...(expected.get(id) as { email: string }), ssn });
        appWrites++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const [min, max] = options.killAfterMs;
    const delay = min + Math.random() * (max - min);
    const outcome = await Promise.race([exited, sleep(delay).then(() => 'timeout' as const)]);
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      await exited;
      kills++;
      const phase = (await table.checkpointPhase().catch(() => undefined)) ?? 'none';
      killedIn[phase] = (killedIn[phase] ?? 0) + 1;
      if (kills === 3) {
        // A rotation while a run is pending: the next run must start over, not resume.
        await rotate();
        rotations++;
      }
    } else {
      expect(outcome, 'a run that was not killed succeeds').toMatchObject({ code: 0 });
      completedRuns++;
      // Give the next trials something to do: rotate again.
      await rotate();
      rotations++;
    }
    writing = false;
    await writer;
  }
  expect(kills).toBeGreaterThanOrEqual(options.kills);

  const final = await exitOf(reencrypt(table.location, keyringFile));
  expect(final.code, final.stderr).toBe(0);
  expect(await table.checkpointPhase()).toBe('done');

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
  return { kills, completedRuns, rotations, applicationWrites: appWrites, killedIn };
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
      '500',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.resume();
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
