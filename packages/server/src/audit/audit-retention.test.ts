/**
 * Retention: rotated files whose last entry is older than the retention are deleted, each
 * deletion first recorded in the chain (a `retention` entry naming the file, its seq range and
 * its last line's hash), so the remaining files still verify as one chain and say that the
 * earlier part was deleted by retention.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatingLog, type TestClock } from '../../test/audit-files.js';
import { verifyAuditFiles } from './audit-verify-files.js';

const DAY = 86_400_000;

describe('audit retention', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-retention-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const read = async (names: string[]) =>
    Promise.all(
      names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })),
    );

  it('deletes rotated files past the retention, records each deletion, and the rest still verifies', async () => {
    const clock: TestClock = { ms: Date.now() - 200 * DAY };
    const path = join(dir, 'audit.log');
    // Not an audit log (a compressed copy): never deleted, never described.
    await writeFile(join(dir, 'audit.log.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    const log = await rotatingLog(path, clock, { maxBytes: 2048, retainMs: 90 * DAY });
    await log.write(30);
    const before = (await readdir(dir)).filter((n) => n !== 'audit.log.gz').sort();
    expect(before.length).toBeGreaterThanOrEqual(4);
    // 150 days later: the next rotation finds every earlier file past 90 days.
    clock.ms += 150 * DAY;
    await log.write(12);
    await log.chain.retain();
    await log.close();
    expect(log.errors).toEqual([]);

    const after = (await readdir(dir)).sort();
    expect(after).toContain('audit.log.gz');
    const remaining = after.filter((n) => n !== 'audit.log.gz');
    const deleted = before.filter((n) => n !== 'audit.log' && !remaining.includes(n));
    expect(deleted.length).toBeGreaterThanOrEqual(3);

    const files = await read(remaining);
    const entries = files.flatMap((f) =>
      f.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    const recorded = entries.filter((e) => e.type === 'retention');
    expect(recorded.map((e) => e.deleted.file).sort()).toEqual(deleted.sort());
    for (const e of recorded)
      expect(e.deleted).toMatchObject({
        first_seq: expect.any(Number),
        last_seq: expect.any(Number),
        last_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });

    const report = verifyAuditFiles(files, { now: new Date(clock.ms) });
    expect(report.problems).toEqual([]);
    expect(report.files.flatMap((f) => f.problems)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.firstSeq).toBeGreaterThan(1);
    expect(report.notes.join('\n')).toMatch(
      new RegExp(
        `^entries 1\\.\\.${(report.firstSeq as number) - 1} are not in the set: deleted by retention`,
        'm',
      ),
    );
    expect(report.deleted.map((d) => d.file).sort()).toEqual(deleted.sort());

    // Without the retention entries (the file holding them not given), the start is a gap.
    const holding = files.filter((f) => !f.text.includes('"type":"retention"'));
    const partial = verifyAuditFiles(holding, { now: new Date(clock.ms) });
    expect(partial.ok).toBe(false);
    expect(partial.problems.join('\n')).toMatch(
      /no retention entry records as deleted: a file is missing/,
    );
  });

  it('keeps every file without a retention, and files younger than it', async () => {
    const sub = await mkdtemp(join(dir, 'young-'));
    const clock: TestClock = { ms: Date.now() - 10 * DAY };
    const log = await rotatingLog(join(sub, 'audit.log'), clock, {
      maxBytes: 2048,
      retainMs: 90 * DAY,
    });
    await log.write(25);
    const before = (await readdir(sub)).sort();
    clock.ms += 5 * DAY;
    await log.write(12);
    await log.chain.retain();
    await log.close();
    const after = (await readdir(sub)).sort();
    expect(after).toEqual(expect.arrayContaining(before));
    const text = (await Promise.all(after.map((n) => readFile(join(sub, n), 'utf8')))).join('');
    expect(text).not.toContain('"type":"retention"');
  });
});
