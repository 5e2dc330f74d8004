import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recentEntries, verifyLiveFile } from './audit-readback.js';

describe('reading an audit file back', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-readback-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pages from the end, skips a torn last line and never echoes a line that is not JSON', async () => {
    const file = join(dir, 'lines.log');
    const marker = `not-json-${Date.now()}`;
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ seq: i + 1, type: 'x' }));
    lines.splice(150, 0, marker);
    // Large enough for several 64 KiB chunks, ending in a line being written.
    await writeFile(file, `${lines.join('\n')}\n{"seq":301,"ty`);
    const seqs = (page: { lines: (string | null)[] }) =>
      page.lines.map((l) => (l === null ? null : (JSON.parse(l) as { seq: number }).seq));
    const first = await recentEntries(file, { limit: 100 });
    expect(seqs(first)).toEqual(Array.from({ length: 100 }, (_, i) => 300 - i));
    // Exactly the bytes of the file's lines.
    expect(first.lines[0]).toBe(lines.at(-1));
    expect(first.nextBefore).toBe(201);
    const second = await recentEntries(file, { limit: 100, before: 201 });
    expect(seqs(second)[0]).toBe(200);
    expect(seqs(second).at(-1)).toBe(101);
    // Below `before`, a line that is no entry has no seq to place it: later pages leave it out.
    const last = await recentEntries(file, { limit: 200, before: 101 });
    expect(last.lines).toHaveLength(100);
    expect(last.nextBefore).toBeUndefined();
    // On the newest page it is shown in place, as null: never echoed.
    const whole = await recentEntries(file, { limit: 200 });
    expect(JSON.stringify(whole.lines)).not.toContain(marker);
    expect(whole.lines[150]).toBeNull();
  });

  it('an absent file has no entries; a directory is not readable', async () => {
    expect(await recentEntries(join(dir, 'absent.log'), { limit: 5 })).toEqual({
      lines: [],
      nextBefore: undefined,
    });
    await expect(recentEntries(dir, { limit: 5 })).rejects.toMatchObject({
      code: 'ERR_AUDIT_NOT_READABLE',
    });
    // A FIFO with no writer: refused at once, never waited on.
    const fifo = join(dir, 'fifo.log');
    execFileSync('mkfifo', [fifo]);
    for (const read of [() => recentEntries(fifo, { limit: 5 }), () => verifyLiveFile(fifo, {})])
      await expect(read()).rejects.toMatchObject({ code: 'ERR_AUDIT_NOT_READABLE' });
  });

  it('refuses a file over the cap, without reading it, and leaves a torn last line unchecked', async () => {
    const file = join(dir, 'big.log');
    await writeFile(file, `${'{"seq":1}\n'.repeat(200)}`);
    await expect(verifyLiveFile(file, { maxBytes: 1000 })).rejects.toMatchObject({
      code: 'ERR_AUDIT_FILE_TOO_LARGE',
    });
    await appendFile(file, '{"seq":2');
    const report = await verifyLiveFile(file, { maxBytes: 10_000 });
    expect(report.checkedBytes).toBe(2000);
    expect(report.notes.join(' ')).toMatch(/8 bytes after the last complete line were not checked/);
    // Not an audit chain at all: the first problem names its line.
    expect(report.ok).toBe(false);
    expect(report.firstProblem?.line).toBe(1);
  });
});
