import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES_URL } from '@custos/test-support/services';
import { describe, expect, it } from 'vitest';
import { createTestStorage, send, storageKinds, type TestResponse } from '../test/harness.js';
import { type RunningServer, startServer } from './server.js';

const CANARIES = {
  kv: 'canary-kv-3f9a1c27d0b14e',
  nested: 'canary-nested-8e2d4b6a1f30',
  patch: 'canary-patch-5c7e9a0b2d41',
  badJson: 'canary-badjson-1a2b3c4d5e6f',
  casLoser: 'canary-cas-loser-7d8e9f0a1b',
  denied: 'canary-denied-2c3d4e5f6a7b',
  oversized: 'canary-oversized-9b8a7c6d5e',
  wrongType: 'canary-wrongtype-4f5e6d7c8b',
  kv1: 'canary-kv1-6a5b4c3d2e1f',
  cubbyhole: 'canary-cubbyhole-0f1e2d3c4b',
  kv1Denied: 'canary-kv1-denied-5e4d3c2b1a',
  unsealKey: '',
  rootToken: '',
  childToken: '',
  secretId: '',
};

function assertAbsent(where: string, text: string): void {
  for (const [name, value] of Object.entries(CANARIES)) {
    if (value !== '') expect(text.includes(value), `${name} canary found in ${where}`).toBe(false);
  }
}

describe.each(await storageKinds())('planted canaries never leave the barrier (%s)', (kind) => {
  it('are absent from logs, audit files, error responses and the database', async () => {
    const storage = await createTestStorage(kind);
    const dir = await mkdtemp(join(tmpdir(), 'custos-canary-'));
    const auditFile = join(dir, 'audit.log');
    const logs: string[] = [];
    let server: RunningServer | undefined = await startServer({
      storage: storage.location,
      port: 0,
      logLevel: 'debug',
      logDestination: { write: (line) => logs.push(line) },
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
      maxRequestBytes: 4096,
    });
    const url = server.url;
    try {
      const init = await send(url, 'POST', 'sys/init', {
        body: { secret_shares: 1, secret_threshold: 1 },
      });
      CANARIES.unsealKey = init.body.keys[0];
      CANARIES.rootToken = init.body.root_token;
      await send(url, 'POST', 'sys/unseal', { body: { key: CANARIES.unsealKey } });
      const root = { token: CANARIES.rootToken };

      await send(url, 'POST', 'secret/data/app/db', {
        ...root,
        body: { data: { password: CANARIES.kv, deep: { x: [CANARIES.nested] } } },
      });
      await send(url, 'PATCH', 'secret/data/app/db', {
        ...root,
        body: { data: { extra: CANARIES.patch } },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      const child = await send(url, 'POST', 'auth/token/create', {
        ...root,
        body: { policies: ['default'] },
      });
      CANARIES.childToken = child.body.auth.client_token;
      await send(url, 'POST', 'auth/approle/role/ci', {
        ...root,
        body: { token_policies: ['default'] },
      });
      CANARIES.secretId = (
        await send(url, 'POST', 'auth/approle/role/ci/secret-id', { ...root, body: {} })
      ).body.data.secret_id;

      // A KV version 1 mount and the token's cubbyhole hold values behind the barrier too.
      await send(url, 'POST', 'sys/mounts/legacy', { ...root, body: { type: 'kv' } });
      await send(url, 'POST', 'legacy/app/db', { ...root, body: { password: CANARIES.kv1 } });
      await send(url, 'POST', 'cubbyhole/note', {
        token: CANARIES.childToken,
        body: { note: CANARIES.cubbyhole },
      });

      const failures: TestResponse[] = [
        await send(url, 'POST', 'secret/data/app/db', {
          ...root,
          raw: `{"data":{"password":"${CANARIES.badJson}"`,
        }),
        await send(url, 'POST', 'secret/data/app/db', {
          ...root,
          body: { data: { p: CANARIES.casLoser }, options: { cas: 99 } },
        }),
        await send(url, 'POST', 'secret/data/app/db', {
          token: CANARIES.childToken,
          body: { data: { p: CANARIES.denied } },
        }),
        await send(url, 'POST', 'secret/data/app/db', {
          ...root,
          body: { data: { p: CANARIES.oversized.repeat(400) } },
        }),
        await send(url, 'POST', 'secret/data/app/db', {
          ...root,
          body: { data: CANARIES.wrongType },
        }),
        await send(url, 'POST', 'secret/metadata/app/db', {
          ...root,
          body: { custom_metadata: { k: { v: CANARIES.wrongType } } },
        }),
        await send(url, 'POST', 'sys/unseal', { body: { key: `${CANARIES.wrongType}!` } }),
        await send(url, 'POST', 'auth/approle/login', {
          body: { role_id: CANARIES.wrongType, secret_id: CANARIES.secretId },
        }),
        await send(url, 'POST', 'legacy/app/db', {
          token: CANARIES.childToken,
          body: { password: CANARIES.kv1Denied },
        }),
        await send(url, 'POST', 'legacy/', { ...root, body: { password: CANARIES.kv1Denied } }),
        await send(url, 'POST', 'secret/app/db', { ...root, body: { p: CANARIES.kv1Denied } }),
      ];
      expect(failures.map((f) => f.status)).toEqual([
        400, 400, 403, 413, 400, 400, 400, 400, 403, 400, 404,
      ]);
      for (const f of failures) assertAbsent(`error response ${f.status}`, f.text);
      const read = await send(url, 'GET', 'secret/data/app/db', root);
      expect(read.body.data.data.password).toBe(CANARIES.kv); // the canaries really were stored
      expect((await send(url, 'GET', 'legacy/app/db', root)).body.data.password).toBe(CANARIES.kv1);
      expect(
        (await send(url, 'GET', 'cubbyhole/note', { token: CANARIES.childToken })).body.data.note,
      ).toBe(CANARIES.cubbyhole);

      await server.close();
      server = undefined;

      assertAbsent('server log', logs.join(''));
      expect(logs.length).toBeGreaterThan(10);
      assertAbsent('audit file', await readFile(auditFile, 'utf8'));
      if (storage.raw.kind === 'sqlite') {
        const dbDir = join(storage.raw.file, '..');
        for (const name of await readdir(dbDir)) {
          assertAbsent(
            `SQLite file ${name}`,
            (await readFile(join(dbDir, name))).toString('latin1'),
          );
        }
      } else {
        const dump = execFileSync(
          'pg_dump',
          ['--dbname', POSTGRES_URL, '--schema', storage.raw.schema, '--data-only'],
          {
            maxBuffer: 64 * 1024 * 1024,
          },
        ).toString('latin1');
        expect(dump).toContain('custos_entries');
        assertAbsent('PostgreSQL dump', dump);
      }
    } finally {
      await server?.close();
      await storage.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
