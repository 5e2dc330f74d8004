/**
 * Rotation of a file sink on a running server: by size (`max_bytes`), by age (`max_age`) and on
 * SIGHUP after logrotate moved the file. The chain runs on across the files (each new file's
 * first line chains to the old file's signed end), and every request acknowledged around a
 * rotation has its entries in one of the files.
 */
import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../test/harness.js';
import { type RunningServer, startServer } from '../server.js';
import { verifyAuditFiles } from './audit-verify-files.js';

const ROOT = 'root';

describe('audit file rotation', () => {
  let dir: string;
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-rotation-'));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every file of the sink (`<name>` and `<name>.*`), read. */
  const filesOf = async (name: string) => {
    const names = (await readdir(dir)).filter((n) => n === name || n.startsWith(`${name}.`));
    return Promise.all(
      names.map(async (n) => ({ name: n, text: await readFile(join(dir, n), 'utf8') })),
    );
  };

  it('rotates by size under concurrent load: one chain across the files, no acknowledged entry lost', async () => {
    const server = await startServer({
      dev: { rootTokenId: ROOT },
      port: 0,
      logLevel: 'silent',
      audit: [{ type: 'file', name: 'file', path: join(dir, 'size.log'), maxBytes: 4096 }],
    });
    servers.push(server);
    const acknowledged: string[] = [];
    for (let wave = 0; wave < 4; wave++) {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          send(server.url, 'POST', `secret/data/rotate/${wave}-${i}`, {
            token: ROOT,
            body: { data: { value: `v${wave}-${i}` } },
          }),
        ),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        acknowledged.push(answer.body.request_id as string);
      }
    }
    // What `custos audit verify --server` fetches: the latest checkpoint and the file starts.
    const state = (await send(server.url, 'GET', 'sys/audit/checkpoints', { token: ROOT })).body
      .data;
    const publicKey = (await send(server.url, 'GET', 'sys/audit/public-key', { token: ROOT })).body
      .data.public_key as string;
    await server.close();
    servers.splice(servers.indexOf(server), 1);

    const files = await filesOf('size.log');
    expect(files.length).toBeGreaterThanOrEqual(4);
    // Each file the server had started by then begins at a recorded start and ends at the
    // checkpoint the next start chains to (files started after the fetch are left out).
    const starts = state.files.file as { seq: number }[];
    expect(starts.length).toBeGreaterThanOrEqual(4);
    const lastStart = (starts.at(-1) as { seq: number }).seq;
    const known = files.filter(
      (f) => (JSON.parse(f.text.split('\n')[0] as string).seq as number) <= lastStart,
    );
    expect(known.length).toBe(starts.length);
    const againstServer = verifyAuditFiles(known, { publicKey, fileStarts: state.files.file });
    expect(againstServer.problems).toEqual([]);
    expect(againstServer.files.flatMap((f) => f.problems)).toEqual([]);
    // Given in reverse name order: the verifier orders them by the chain.
    const report = verifyAuditFiles(files.reverse());
    expect(report.problems).toEqual([]);
    expect(report.files.flatMap((f) => f.problems)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.firstSeq).toBe(1);

    // Each rotated file ends signed; the next starts with an open entry that starts a file.
    const ordered = report.files.map((f) => files.find((x) => x.name === f.name)?.text ?? '');
    for (const [i, text] of ordered.entries()) {
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({ type: 'open', starts_file: true });
      if (i < ordered.length - 1) expect(lines.at(-1)).toMatchObject({ type: 'checkpoint' });
    }
    // Both entries of every acknowledged request are in the files, once.
    const entries = ordered.flatMap((t) =>
      t
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    for (const id of acknowledged) {
      const mine = entries.filter((e) => e.request?.id === id);
      expect(mine.map((e) => e.type)).toEqual(['request', 'response']);
    }
  });

  it('rotates by age at the first write after max_age, and on SIGHUP after logrotate moved the file', async () => {
    let now = Date.now();
    const path = join(dir, 'age.log');
    const server = await startServer({
      dev: { rootTokenId: ROOT },
      port: 0,
      logLevel: 'silent',
      clock: () => now,
      audit: [{ type: 'file', name: 'file', path, maxAgeSeconds: 3600 }],
    });
    servers.push(server);
    const write = async (i: number) =>
      expect(
        (
          await send(server.url, 'POST', `secret/data/age/${i}`, {
            token: ROOT,
            body: { data: { value: `${i}` } },
          })
        ).status,
      ).toBe(200);
    await write(0);
    expect((await filesOf('age.log')).length).toBe(1);
    now += 3600_000;
    await write(1); // written, then the file is due: rotated before the next entry
    await write(2);
    expect((await filesOf('age.log')).length).toBe(2);

    // logrotate's way: move the file, then SIGHUP (the server reopens its path).
    await rename(path, `${path}.moved`);
    await server.context.audit.reopen();
    await write(3);
    await server.close();
    servers.splice(servers.indexOf(server), 1);

    const files = await filesOf('age.log');
    expect(files.map((f) => f.name).sort()).toEqual(
      expect.arrayContaining(['age.log', 'age.log.moved']),
    );
    expect(files.length).toBe(3);
    const report = verifyAuditFiles(files);
    expect(report.problems).toEqual([]);
    expect(report.files.flatMap((f) => f.problems)).toEqual([]);
    expect(report.files.map((f) => f.name).at(-1)).toBe('age.log');
    expect(report.files.map((f) => f.name).at(-2)).toBe('age.log.moved');
  });
});
