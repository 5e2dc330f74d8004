import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import { type RunningServer, type StartOptions, startServer } from '../server.js';
import { verifyAuditLog } from './audit-verify.js';

const ROOT = 'root';
const REFUSED = /^audit log unavailable: every sink was refused \(sink file: /;

let deployments = 0;

/** One storage and one audit file, and servers started on them in turn (restarts). */
async function deployment(kind: 'sqlite' | 'postgres', dir: string) {
  const storage: TestStorage = await createTestStorage(kind);
  deployments += 1;
  const file = join(dir, `audit-${kind}-${deployments}.log`);
  const logs: string[] = [];
  const options: StartOptions = {
    port: 0,
    logLevel: 'error',
    storage: storage.location,
    audit: [{ type: 'file', path: file, name: 'file' }],
    auditCheckpointEvery: 3,
    auditTimeoutMs: 1000,
    logDestination: { write: (line: string) => void logs.push(line) },
  };
  let server = await startServer({ ...options, dev: { rootTokenId: ROOT } });
  const unsealKey = server.unsealKey as string;
  const call = (method: string, path: string, body?: unknown, token: string | null = ROOT) =>
    send(server.url, method, path, { token, ...(body === undefined ? {} : { body }) });
  return {
    file,
    logs,
    call,
    get server(): RunningServer {
      return server;
    },
    async seal() {
      expect((await call('POST', 'sys/seal')).status).toBe(204);
      // Sealed, not only sealing: the audit file is closed (its close entry written) only once
      // the seal's hooks have run, and a change made before that would be written over.
      // (vi.waitFor's 1 s default was too short on two busy cores: a generous bound, not a time.)
      await vi.waitFor(() => expect(server.context.seal.phase()).toBe('sealed'), {
        timeout: 15_000,
      });
    },
    async unseal() {
      const status = await call('POST', 'sys/unseal', { key: unsealKey }, null);
      expect(status.body).toMatchObject({ sealed: false });
    },
    /** Stops the server and starts another on the same storage and file, then unseals it. */
    async restart() {
      await server.close();
      server = await startServer(options);
      await this.unseal();
    },
    /** The server's records and key, as `custos audit verify --server` fetches them. */
    async serverRecords() {
      const state = (await call('GET', 'sys/audit/checkpoints')).body.data;
      const publicKey = (await call('GET', 'sys/audit/public-key')).body.data.public_key as string;
      return {
        publicKey,
        expectedCheckpoint: state.checkpoints.find((c: { sink: string }) => c.sink === 'file'),
        fileStarts: state.files.file,
      };
    },
    async close() {
      await server.close();
      await storage.cleanup();
    },
  };
}

type Deployment = Awaited<ReturnType<typeof deployment>>;

/** A few audited writes: several checkpoints in the file. */
async function traffic(d: Deployment, n = 4) {
  for (let i = 0; i < n; i++) {
    expect((await d.call('POST', `secret/data/app/${i}`, { data: { v: `${i}` } })).status).toBe(
      200,
    );
  }
}

/** Starts the new file and checks the sink takes requests again. */
async function startNewFile(d: Deployment) {
  const started = await d.call('POST', 'sys/audit/new-file/file', {});
  expect(started.status).toBe(200);
  expect(started.body.data).toMatchObject({
    sink: 'file',
    seq: expect.any(Number),
    previous_checkpoint: { seq: started.body.data.seq - 1, hash: expect.any(String) },
  });
  expect((await d.call('GET', 'secret/data/app/0')).status).toBe(200);
  return started.body.data as { seq: number; previous_checkpoint: { seq: number; hash: string } };
}

/** The new file: opened by the operator's request, recorded in it, and verifying against the server. */
async function checkNewFile(d: Deployment, reason: RegExp, seq: number) {
  const records = await d.serverRecords();
  const lines = (await readFile(d.file, 'utf8')).trim().split('\n');
  const [open, request, response] = lines.slice(0, 3).map((l) => JSON.parse(l));
  expect(open).toMatchObject({
    type: 'open',
    seq,
    starts_file: true,
    new_file: { refused: expect.stringMatching(reason) },
  });
  expect(request).toMatchObject({
    type: 'request',
    request: { path: 'sys/audit/new-file/file', client_token: expect.stringMatching(/^hmac-/) },
  });
  expect(response).toMatchObject({
    type: 'response',
    request: { path: 'sys/audit/new-file/file' },
    response: { status: 200 },
  });
  expect(records.fileStarts.at(-1)).toMatchObject({ seq, cause: 'new-file' });
  const report = verifyAuditLog(`${lines.join('\n')}\n`, records);
  expect(report.problems).toEqual([]);
  return records;
}

describe.each(await storageKinds())(
  'an audit file changed while the server was not writing, on %s',
  (kind) => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'custos-audit-refusal-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('an untouched file is taken again after a seal and a restart, and verifies against the server', async () => {
      const d = await deployment(kind, dir);
      try {
        await traffic(d);
        await d.seal();
        await d.unseal();
        await traffic(d, 1);
        await d.restart();
        await traffic(d, 1);
        const records = await d.serverRecords();
        const report = verifyAuditLog(await readFile(d.file, 'utf8'), records);
        expect(report.problems).toEqual([]);
        expect(records.fileStarts).toHaveLength(1);
        expect(d.logs.join('')).not.toMatch(/refused/);
      } finally {
        await d.close();
      }
    });

    const cutEnd = async (file: string) => {
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      await writeFile(file, `${lines.slice(0, -2).join('\n')}\n`);
    };
    it.each([
      {
        change: 'emptied',
        apply: (file: string) => truncate(file, 0),
        reason: /the file is empty, but the server recorded its checkpoint at seq \d+ in it/,
        moveAside: false,
        nothingToVerify: false,
      },
      {
        change: 'cut at its end',
        apply: cutEnd,
        reason: /the file ends at seq \d+, before the checkpoint at seq \d+ the server recorded/,
        moveAside: true,
        nothingToVerify: false,
      },
      {
        change: 'replaced by an older copy of itself',
        apply: async (file: string) => writeFile(file, await readFile(`${file}.early`)),
        reason: /the file ends at seq \d+, before the checkpoint at seq \d+ the server recorded/,
        moveAside: true,
        nothingToVerify: false,
      },
      {
        change: 'replaced by a pipe',
        apply: async (file: string) => {
          await rm(file);
          execFileSync('mkfifo', [file]);
        },
        reason: /the file is no longer a regular file/,
        moveAside: true,
        nothingToVerify: true,
      },
    ])(
      'a file $change while sealed: unsealing refuses it, with the reason, until an operator starts a new file',
      async ({ apply, reason, moveAside, nothingToVerify }) => {
        const d = await deployment(kind, dir);
        try {
          await traffic(d, 2);
          await writeFile(`${d.file}.early`, await readFile(d.file));
          await traffic(d, 3);
          await d.seal();
          await apply(d.file);
          await d.unseal();

          // Fail closed, at once, with the reason: in the response and in the server log.
          const refused = await d.call('GET', 'secret/data/app/0');
          expect(refused.status).toBe(500);
          expect(refused.body.errors[0]).toMatch(REFUSED);
          expect(refused.body.errors[0]).toMatch(reason);
          expect(d.logs.join('')).toMatch(reason);
          expect((await d.call('GET', 'sys/audit/checkpoints')).status).toBe(500);

          // The operator keeps the damaged file: it must be moved aside first. That refusal cannot
          // be recorded either, so the answer is the sink's refusal (its advice); the log says why.
          if (moveAside) {
            const notEmpty = await d.call('POST', 'sys/audit/new-file/file', {});
            expect(notEmpty.status).toBe(500);
            expect(notEmpty.body.errors[0]).toMatch(/Move the file aside and start a new one/);
            expect(d.logs.join('')).toMatch(
              /still holds \d+ bytes: move it aside|is not a regular file/,
            );
            expect((await d.call('GET', 'secret/data/app/0')).status).toBe(500);
            await rename(d.file, `${d.file}.damaged`);
          }
          const started = await startNewFile(d);
          const again = await d.call('POST', 'sys/audit/new-file/file', {});
          expect(again.status).toBe(400);
          expect(again.body.errors[0]).toMatch(/was not refused/);
          const records = await checkNewFile(d, reason, started.seq);

          // What is left of the old file, verified against the server, shows what happened to it.
          const old = moveAside ? `${d.file}.damaged` : undefined;
          if (nothingToVerify !== true) {
            const report = verifyAuditLog(
              old === undefined ? '' : await readFile(old, 'utf8'),
              records,
            );
            expect(report.ok).toBe(false);
            expect(report.problems.join('\n')).toMatch(
              old === undefined
                ? /the file is empty/
                : /the checkpoint \(seq \d+\) the server recorded as this file's end when the next file started \(seq \d+\) is not in the file/,
            );
          }
        } finally {
          await d.close();
        }
      },
    );

    it('a file cut while the server was stopped: the restarted server refuses it; new-file needs sudo', async () => {
      const d = await deployment(kind, dir);
      try {
        await traffic(d);
        const plain = (await d.call('POST', 'auth/token/create', { policies: ['default'] })).body
          .auth.client_token as string;
        await d.server.close();
        await cutEnd(d.file);
        await d.restart();
        const refused = await d.call('GET', 'secret/data/app/0');
        expect(refused.status).toBe(500);
        expect(refused.body.errors[0]).toMatch(
          /before the checkpoint at seq \d+ the server recorded/,
        );
        await rename(d.file, `${d.file}.damaged`);
        // Without sudo: not started (the refusal cannot be recorded, so it is a 500, not a 403).
        const denied = await d.call('POST', 'sys/audit/new-file/file', {}, plain);
        expect(denied.status).toBe(500);
        expect(denied.body.errors[0]).toMatch(REFUSED);
        expect((await d.call('GET', 'secret/data/app/0')).status).toBe(500);
        const started = await startNewFile(d);
        await checkNewFile(d, /before the checkpoint/, started.seq);
        // The new file is taken again after a restart.
        await d.restart();
        expect((await d.call('GET', 'secret/data/app/0')).status).toBe(200);
        const records = await d.serverRecords();
        expect(verifyAuditLog(await readFile(d.file, 'utf8'), records).problems).toEqual([]);
      } finally {
        await d.close();
      }
    });

    it('a file emptied while the server writes it (copytruncate) is refused at the next unseal and fails verification', async () => {
      const d = await deployment(kind, dir);
      try {
        await traffic(d);
        await truncate(d.file, 0);
        await traffic(d, 2);
        const records = await d.serverRecords();
        const live = verifyAuditLog(await readFile(d.file, 'utf8'), records);
        expect(live.ok).toBe(false);
        expect(live.problems.join('\n')).toMatch(/the file begins with a (request|response) entry/);
        expect(live.problems.join('\n')).toMatch(
          /where the server recorded no file start for this sink/,
        );
        await d.seal();
        await d.unseal();
        const refused = await d.call('GET', 'secret/data/app/0');
        expect(refused.body.errors[0]).toMatch(/does not begin with an open entry/);
      } finally {
        await d.close();
      }
    });
  },
);
