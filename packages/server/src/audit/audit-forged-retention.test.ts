/**
 * A retention entry excuses missing files, so it must not be forgeable: anyone who can write
 * the log can append a chained line (no key needed) to its unsigned end. Only a retention
 * entry a checkpoint signs counts; an entry appended after a signed close is a problem by
 * itself. Tried on a closed log and on a live one, for the first file and for a middle one.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatingLog, type TestClock } from '../../test/audit-files.js';
import { lineHash } from './audit-line.js';
import { type AuditFileInput, verifyAuditFiles } from './audit-verify-files.js';

/** A sink's files in chain order (rotated ones oldest first, then the current one). */
async function writeLog(closed: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'custos-forged-retention-'));
  const clock: TestClock = { ms: Date.now() - 3_600_000 };
  const log = await rotatingLog(join(dir, 'audit.log'), clock, { maxBytes: 2048 });
  await log.write(40);
  if (closed) await log.close();
  else await log.chain.checkpoint();
  const names = (await readdir(dir)).sort();
  const ordered = [...names.slice(1), names[0] as string];
  const files = await Promise.all(
    ordered.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })),
  );
  return { dir, files, nowMs: clock.ms };
}

const linesOf = (f: AuditFileInput) => f.text.trimEnd().split('\n');

/** `file` with chained lines appended (each one's seq and prev computed: no key needed). */
function appendChained(file: AuditFileInput, entries: Record<string, unknown>[], atMs: number) {
  const lines = linesOf(file);
  for (const [i, body] of entries.entries()) {
    const before = lines.at(-1) as string;
    lines.push(
      JSON.stringify({
        time: new Date(atMs + i * 1000).toISOString(),
        seq: (JSON.parse(before).seq as number) + 1,
        prev: lineHash(before),
        ...body,
      }),
    );
  }
  return { name: file.name, text: `${lines.join('\n')}\n` };
}

/** A retention entry describing `victim` exactly as the server would. */
function retentionOf(victim: AuditFileInput) {
  const lines = linesOf(victim);
  const first = JSON.parse(lines[0] as string);
  const last = JSON.parse(lines.at(-1) as string);
  return {
    type: 'retention',
    deleted: {
      file: victim.name,
      first_seq: first.seq,
      last_seq: last.seq,
      last_hash: lineHash(lines.at(-1) as string),
      last_time: last.time,
    },
  };
}

describe.each([
  ['a closed log', true],
  ['a live log', false],
])('a forged retention entry in %s', (_label, closed) => {
  let log: Awaited<ReturnType<typeof writeLog>>;
  beforeAll(async () => {
    log = await writeLog(closed);
  });
  afterAll(async () => {
    await rm(log.dir, { recursive: true, force: true });
  });

  const current = () => log.files.at(-1) as AuditFileInput;
  const verify = (set: AuditFileInput[]) =>
    verifyAuditFiles(set, { now: new Date(log.nowMs + 3000) });

  it('verifies untouched', () => {
    expect(log.files.length).toBeGreaterThanOrEqual(4);
    expect(verify(log.files).ok).toBe(true);
  });

  it.each([
    ['the first file', 0],
    ['a middle file', 2],
  ])('does not excuse deleting %s', (_which, index) => {
    const victim = log.files[index] as AuditFileInput;
    const before = [
      // Appended alone, or after an open entry posing as a restart.
      [retentionOf(victim)],
      [{ type: 'open', starts_file: false }, retentionOf(victim)],
    ];
    for (const forged of before) {
      const tampered = appendChained(current(), forged, log.nowMs + 1000);
      const set = [...log.files.filter((f) => f !== victim && f !== current()), tampered];
      const report = verify(set);
      expect(report.ok).toBe(false);
      expect(report.deleted).toEqual([]);
      expect(report.problems.join('\n')).toMatch(/missing/);
      expect(report.warnings.join('\n')).toMatch(/is not signed by a checkpoint/);
    }
  });

  it(
    closed ? 'names any entry appended after the close' : 'takes a live unsigned end as unsigned',
    () => {
      const tampered = appendChained(
        current(),
        [{ type: 'request', request: {} }],
        log.nowMs + 1000,
      );
      const report = verify([...log.files.slice(0, -1), tampered]);
      const last = report.files.at(-1);
      if (closed) {
        expect(report.ok).toBe(false);
        expect(last?.problems.join('\n')).toMatch(/after the signed close .* not an open entry/);
      } else {
        expect(last?.problems).toEqual([]);
        expect(last?.warnings.join('\n')).toMatch(/not signed yet/);
      }
    },
  );
});
