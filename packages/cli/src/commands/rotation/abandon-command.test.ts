import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@custos/server';
import { openTestDatabase } from '@custos/test-support/kysely';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { custos } from '../../../test/cli.js';

const ROOT = 'abandon-root';

describe('custos rotation abandon', () => {
  let dir: string;
  let server: RunningServer;
  // biome-ignore lint/suspicious/noExplicitAny: the database holds no table: the rewrap fails.
  let db: Kysely<any>;
  let closeDb: () => Promise<void>;
  const env = (token = ROOT) => ({ CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': ROOT, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-abandon-'));
    ({ db, close: closeDb } = await openTestDatabase('sqlite', 'cliabandon'));
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

  it('abandons a rewrap that cannot succeed (needs --reason and sudo), after which the secret rotates again', async () => {
    const help = await custos(['rotation', 'abandon', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--reason/);

    expect((await api('POST', 'transit/keys/gone', {})).status).toBe(200);
    await api('POST', 'secret/data/keys/gone', { data: { key: 'gone', version: 1 } });
    const policy = await api('POST', 'sys/rotation/secret/keys/gone', {
      rotator: 'transit-key',
      schedule: '720h',
      grace_period: '0s',
      settings: {
        key: 'gone',
        targets: [{ database: 'app', table: 'dropped_rows', id_column: 'id', column: 'secret' }],
      },
    });
    expect(policy.status).toBe(204);
    // Nothing to abandon yet: exit 2.
    const early = await custos(['rotation', 'abandon', 'secret/keys/gone', '--reason', 'x'], {
      env: env(),
    });
    expect(early.code, early.stderr).toBe(2);
    expect(early.stderr).toMatch(/no background work left to abandon/);

    const rotated = await api('POST', 'sys/rotate-secret/secret/keys/gone', { force: true });
    expect(rotated.body.data.result).toBe('succeeded');
    await vi.waitFor(
      async () => {
        const history = await api('GET', 'sys/rotation-history/secret/keys/gone');
        expect(history.body.data.runs[0].background.state).toBe('failed');
      },
      { timeout: 10_000, interval: 50 },
    );
    // Without a reason: a usage error, and nothing is sent.
    const bare = await custos(['rotation', 'abandon', 'secret/keys/gone'], { env: env() });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/--reason/);
    // Without sudo: refused.
    await api('PUT', 'sys/policies/acl/abandon-nosudo', {
      policy: 'path "sys/rotation-abandon/*" { capabilities = ["create", "update"] }',
    });
    const created = await api('POST', 'auth/token/create', { policies: ['abandon-nosudo'] });
    const weak = await custos(
      ['rotation', 'abandon', 'secret/keys/gone', '--reason', 'table dropped'],
      { env: env(created.body.auth.client_token) },
    );
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/permission denied/i);

    const abandoned = await custos(
      ['rotation', 'abandon', 'secret/keys/gone', '--reason', 'table dropped', '--format', 'json'],
      { env: env() },
    );
    expect(abandoned.code, abandoned.stderr).toBe(0);
    expect(JSON.parse(abandoned.stdout)).toMatchObject({
      id: rotated.body.data.id,
      background: 'abandoned',
    });
    const history = await custos(['rotation', 'history', 'secret/keys/gone', '--format', 'json'], {
      env: env(),
    });
    expect(history.stdout).toMatch(/table dropped/);
    // Rotates again (the new rewrap fails as well: the table is still gone).
    const again = await api('POST', 'sys/rotate-secret/secret/keys/gone', { force: true });
    expect(again.status).toBe(200);
    expect(again.body.data.result).toBe('succeeded');
    expect((await custos(['rotation', 'abandon', 'secret/../x', '--reason', 'x'])).code).toBe(2);
  });
});
