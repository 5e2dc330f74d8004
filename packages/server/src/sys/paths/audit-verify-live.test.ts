import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';
import { verifyAuditLog } from '../../audit/audit-verify.js';

/**
 * The live chain check while the server writes: lines appended meanwhile (one may be half
 * written when the file is read) and files rotated by size between the server's records and
 * the read. An intact log must always be reported intact.
 */
describe.each(await storageKinds())('sys/audit-verify while the log is written on %s', (kind) => {
  let dir: string;
  let s: TestServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-audit-verify-live-'));
    s = await startTestServer(kind, {
      audit: [{ type: 'file', name: 'file', path: join(dir, 'audit.log'), maxBytes: 8192 }],
      auditCheckpointEvery: 5,
    });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports an intact log intact under concurrent writes and rotations', async () => {
    const reports: { ok: boolean; first_problem: unknown }[] = [];
    for (let round = 0; round < 12; round++) {
      const writes = Array.from({ length: 6 }, (_, i) =>
        s.request('POST', `secret/data/live/${round}-${i}`, {
          body: { data: { v: randomBytes(8).toString('hex') } },
        }),
      );
      const [verify] = await Promise.all([s.request('POST', 'sys/audit-verify/file'), ...writes]);
      expect(verify?.status).toBe(200);
      reports.push(verify?.body.data);
    }
    expect(reports.filter((r) => !r.ok)).toEqual([]);
    // The log did rotate meanwhile (else this proves less than it says).
    expect((await readdir(dir)).filter((f) => f.startsWith('audit.log.')).length).toBeGreaterThan(
      1,
    );
  });

  it('a file just rotated, not signed yet, is intact: the latest checkpoint ends the previous file', async () => {
    const quiet = await mkdtemp(join(tmpdir(), 'custos-audit-rotated-'));
    const t = await startTestServer(kind, {
      audit: [{ type: 'file', name: 'file', path: join(quiet, 'audit.log'), maxBytes: 4096 }],
      // No checkpoint by count in the new file: only the rotation's, at the old file's end.
      auditCheckpointEvery: 1000,
    });
    try {
      let i = 0;
      while ((await readdir(quiet)).filter((f) => f.startsWith('audit.log.')).length === 0)
        await t.request('POST', `secret/data/r/${i++}`, { body: { data: { v: String(i) } } });
      const live = await t.request('POST', 'sys/audit-verify/file');
      expect(live.body.data).toMatchObject({ ok: true, last_checkpoint_seq: null });
      // The same for the command's code, given the server's records (`--server`).
      const records = (await t.request('GET', 'sys/audit/checkpoints')).body.data;
      const latest = records.checkpoints.find((c: { sink: string }) => c.sink === 'file');
      const report = verifyAuditLog(await readFile(join(quiet, 'audit.log'), 'utf8'), {
        expectedCheckpoint: { seq: latest.seq, hash: latest.hash },
        fileStarts: records.files.file,
      });
      expect(report.problems).toEqual([]);
      expect(report.notes.join(' ')).toMatch(/ends the previous file/);
    } finally {
      await t.close();
      await rm(quiet, { recursive: true, force: true });
    }
  });
});
