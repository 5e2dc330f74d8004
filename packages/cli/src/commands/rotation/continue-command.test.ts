import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@custos/server';
import { openTestDatabase } from '@custos/test-support/kysely';
import { CompiledQuery, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { custos } from '../../../test/cli.js';

const ROOT = 'continue-root';

describe('custos rotation continue', () => {
  let dir: string;
  let server: RunningServer;
  // biome-ignore lint/suspicious/noExplicitAny: the table is made by the test.
  let db: Kysely<any>;
  let closeDb: () => Promise<void>;
  const env = () => ({ CUSTOS_ADDR: server.url, CUSTOS_TOKEN: ROOT });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': ROOT, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };
  const q = async (text: string) =>
    (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text))).rows;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-continue-'));
    ({ db, close: closeDb } = await openTestDatabase('sqlite', 'clicont'));
    server = await startServer({
      dev: { rootTokenId: ROOT },
      port: 0,
      logLevel: 'silent',
      storage: join(dir, 'custos.db'),
      rotationDatabases: { app: db },
      rotationSchedulerIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
    await closeDb?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('continues a failed rewrap, follows it with --wait, and exits 1 / 0 / 2 as it goes', async () => {
    const help = await custos(['rotation', 'continue', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--wait/);
    expect(help.stdout).toMatch(/<secret>/);

    expect((await api('POST', 'transit/keys/inv', {})).status).toBe(200);
    const encrypted = await api('POST', 'transit/encrypt/inv', {
      batch_input: [1, 2].map((i) => ({ plaintext: Buffer.from(`inv-${i}`).toString('base64') })),
    });
    const cts: string[] = encrypted.body.data.batch_results.map(
      (b: { ciphertext: string }) => b.ciphertext,
    );
    await api('POST', 'secret/data/keys/inv', { data: { key: 'inv', version: 1 } });
    const policy = await api('POST', 'sys/rotation/secret/keys/inv', {
      rotator: 'transit-key',
      schedule: '720h',
      grace_period: '0s',
      settings: {
        key: 'inv',
        targets: [{ database: 'app', table: 'inv_rows', id_column: 'id', column: 'secret' }],
      },
    });
    expect(policy.status).toBe(204);
    // Nothing to continue yet: exit 2.
    const early = await custos(['rotation', 'continue', 'secret/keys/inv'], { env: env() });
    expect(early.code, early.stderr).toBe(2);
    expect(early.stderr).toMatch(/nothing to continue/);

    // The table is not there: the rewrap fails in the background.
    const rotated = await api('POST', 'sys/rotate-secret/secret/keys/inv', { force: true });
    expect(rotated.body.data.result).toBe('succeeded');
    await vi.waitFor(
      async () => {
        const history = await api('GET', 'sys/rotation-history/secret/keys/inv');
        expect(history.body.data.runs[0].background.state).toBe('failed');
      },
      { timeout: 10_000, interval: 50 },
    );
    const again = await custos(['rotation', 'continue', 'secret/keys/inv', '--wait'], {
      env: env(),
    });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stdout).toMatch(/background work failed: .*inv_rows.*does not exist/);

    await q('create table inv_rows (id integer primary key, secret text)');
    await q(`insert into inv_rows (id, secret) values (1, '${cts[0]}'), (2, '${cts[1]}')`);
    const done = await custos(
      ['rotation', 'continue', 'secret/keys/inv', '--wait', '--format', 'json'],
      { env: env() },
    );
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      id: rotated.body.data.id,
      background: { state: 'done', attempts: 3 },
    });
    const versions = (await q('select secret from inv_rows order by id')).map((r) =>
      String(r.secret).slice(0, 9),
    );
    expect(versions).toEqual(['vault:v2:', 'vault:v2:']);
    const status = await custos(['rotation', 'status'], { env: env() });
    expect(status.stdout).toMatch(/secret\/keys\/inv\s+transit-key\s+(manual|automatic)\s/);
    expect(status.stdout).not.toMatch(/background/);
    // Done: nothing more to continue (2), and a path that names no secret is a usage error.
    expect((await custos(['rotation', 'continue', 'secret/keys/inv'], { env: env() })).code).toBe(
      2,
    );
    expect((await custos(['rotation', 'continue', 'secret/../x'], { env: env() })).code).toBe(2);
  });
});
