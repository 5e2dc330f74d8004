/**
 * The crash test of `custos reencrypt --blind-index`: after `custos keyring rotate --blind-index`,
 * the backfill is killed with SIGKILL again and again at points drawn over both passes, while
 * the "application" keeps changing rows (new value, new index under the new version), half of
 * them just ahead of the checkpoint. After every kill: the checkpoint kept what was committed,
 * and every row is found by its value through the lookup candidates (old and new versions).
 * Then one run to the end, resuming, and every index current, right and found; finally
 * `--retire-old-versions` retires v1 and lookups compute one index.
 *
 * Kills follow observed progress (the checkpoint), never elapsed time.
 */
import type { ChildProcess } from 'node:child_process';
import { Keyring, readKeyringFile, writeKeyringFile } from '@custos/core/crypto';
import {
  blindIndexVersion,
  createFieldCipher,
  createRowCodec,
  type RowCodec,
} from '@custos/core/fields';
import { expect } from 'vitest';
import { custos, startCustos } from './cli.js';

/** The table under test, reached directly by the test (the "application"). */
export interface BlindIndexKillTable {
  /** `--db` for the command. */
  readonly location: string;
  /** Runs SQL with `?` placeholders. */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Inserts rows of `people (id, tenant, email, email_bidx)`. */
  insert(rows: readonly Record<string, unknown>[]): Promise<void>;
}

export interface BlindIndexKillOptions {
  readonly table: BlindIndexKillTable;
  readonly keyringFile: string;
  readonly rows: number;
  readonly kills: number;
}

const BATCH = 50;
const POLL_MS = 20;
const RUN_KEY = 'blind-index|people|id|email=email_bidx';
const PHASES = ['reencrypt', 'verify', 'done'];
const encryption = {
  table: 'people',
  idColumn: 'id',
  tenantColumn: 'tenant',
  columns: { email: { blindIndex: { indexColumn: 'email_bidx', normalize: true } } },
} as const;
const tenantOf = (id: number) => `t${id % 4}`;

/** Runs the scenario and checks it with `expect`; returns the kills made. */
export async function runBlindIndexKillTest(options: BlindIndexKillOptions): Promise<number> {
  const { table, keyringFile, rows } = options;
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('blind-index');
  await writeKeyringFile(keyringFile, keyring);
  let codec: RowCodec = createRowCodec(createFieldCipher({ keyring }), encryption);
  const expected = new Map<number, string>();
  const initial = [];
  for (let id = 1; id <= rows; id++) {
    expected.set(id, `User${id}@Example.com`);
    initial.push(codec.encryptRow({ id, tenant: tenantOf(id), email: expected.get(id) }));
  }
  await table.insert(initial);
  const rotated = await custos(['keyring', 'rotate', '--file', keyringFile, '--blind-index']);
  expect(rotated.code, rotated.stderr).toBe(0);
  codec = createRowCodec(
    createFieldCipher({ keyring: await readKeyringFile(keyringFile) }),
    encryption,
  );

  const checkpoint = async () =>
    (
      await table
        .query('select phase, last_id from custos_reencrypt_checkpoint where run_key = ?', [
          RUN_KEY,
        ])
        .catch(() => [])
    )[0] as { phase: string; last_id: string | null } | undefined;
  const progressOf = (c: { phase: string; last_id: string | null } | undefined) =>
    c === undefined
      ? -1
      : PHASES.indexOf(c.phase) * rows + (c.last_id === null ? 0 : Number(JSON.parse(c.last_id)));

  const batches = Math.ceil(rows / BATCH);
  const points = new Set<number>();
  while (points.size < options.kills) points.add(1 + Math.floor(Math.random() * (2 * batches - 1)));
  const killAt = [...points].map((b) => b * BATCH).sort((a, b) => a - b);
  if (!killAt.some((p) => p > rows)) killAt[killAt.length - 1] = rows + BATCH;
  if (!killAt.some((p) => p < rows)) killAt[0] = BATCH;

  let kills = 0;
  let writes = 0;
  let lastSeen = -1;
  for (const point of killAt) {
    if (point <= lastSeen) continue;
    const child = backfill(table.location, keyringFile);
    const exited = exitOf(child);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const at = await checkpoint();
        const ahead = writes % 2 === 0 && at?.phase === 'reencrypt' ? progressOf(at) : undefined;
        const id =
          ahead === undefined
            ? 1 + Math.floor(Math.random() * rows)
            : Math.min(rows, ahead + 1 + Math.floor(Math.random() * BATCH));
        const email = `app${writes}.user${id}@example.com`;
        const row: Record<string, unknown> = codec.encryptRow({ id, tenant: tenantOf(id), email });
        await table.query('update people set email = ?, email_bidx = ? where id = ?', [
          row.email,
          row.email_bidx,
          id,
        ]);
        expected.set(id, email);
        writes++;
        await sleep(10);
      }
    })();
    let seen: number | undefined;
    try {
      while (child.exitCode === null && child.signalCode === null) {
        const progress = progressOf(await checkpoint());
        if (progress >= point) {
          seen = progress;
          child.kill('SIGKILL');
          break;
        }
        await sleep(POLL_MS);
      }
    } finally {
      writing = false;
      await writer;
    }
    const outcome = await exited;
    if (outcome.signal !== 'SIGKILL') {
      expect(outcome.code, outcome.stderr).toBe(0);
      break;
    }
    kills++;
    const after = progressOf(await checkpoint());
    expect(after, `kill ${kills}: committed progress kept`).toBeGreaterThanOrEqual(seen as number);
    expect(after, `kill ${kills}: progress beyond the previous kill`).toBeGreaterThan(lastSeen);
    lastSeen = after;
    await expectEveryRowFound(table, codec, expected);
  }
  expect(kills).toBeGreaterThan(0);

  const final = await exitOf(backfill(table.location, keyringFile, '--retire-old-versions'));
  expect(final.code, final.stderr).toBe(0);
  expect(final.stdout).toMatch(/\(resumed\)|0 blind indexes rewritten/);
  expect(final.stdout).toMatch(/retired "blind-index" v1 \(disabled\)/);
  expect((await checkpoint())?.phase).toBe('done');
  const retired = await readKeyringFile(keyringFile);
  expect(retired.info('blind-index').versions.map((v) => v.state)).toEqual(['disabled', 'enabled']);
  codec = createRowCodec(createFieldCipher({ keyring: retired }), encryption);
  const stored = await table.query('select id, email_bidx from people order by id');
  expect(stored).toHaveLength(rows);
  for (const row of stored) {
    const id = Number(row.id);
    expect(blindIndexVersion(row.email_bidx as string), `row ${id}`).toBe(2);
    expect(row.email_bidx).toBe(
      codec.blindIndex('email', expected.get(id) as string, tenantOf(id)),
    );
  }
  await expectEveryRowFound(table, codec, expected);
  return kills;
}

/** Every row is found by its current value through the candidates, and only that row. */
async function expectEveryRowFound(
  table: BlindIndexKillTable,
  codec: RowCodec,
  expected: ReadonlyMap<number, string>,
) {
  for (const [id, email] of expected) {
    if (id % 7 !== 0) continue; // a sample: the lookups are what is checked, not the speed
    const candidates = codec.blindIndexCandidates('email', email, tenantOf(id));
    const found = await table.query(
      `select id from people where tenant = ? and email_bidx in (${candidates.map(() => '?').join(', ')})`,
      [tenantOf(id), ...candidates],
    );
    expect(
      found.map((r) => Number(r.id)),
      `row ${id} (${candidates.length} candidates)`,
    ).toEqual([id]);
  }
}

function backfill(location: string, keyringFile: string, ...extra: string[]): ChildProcess {
  return startCustos([
    'reencrypt',
    '--db',
    location,
    '--table',
    'people',
    '--columns',
    'email',
    '--tenant-column',
    'tenant',
    '--blind-index',
    'email=email_bidx',
    '--index-normalize',
    '--keyring',
    keyringFile,
    '--batch',
    String(BATCH),
    ...extra,
  ]);
}

function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
