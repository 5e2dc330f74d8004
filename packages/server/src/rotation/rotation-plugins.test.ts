import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { parseRotationConfig } from '../config/rotation-config.js';
import { startServer } from '../server.js';

/** A plugin module as a user writes one: plain ESM, exporting `rotator`. */
const UPPER_PLUGIN = `
import { randomBytes } from 'node:crypto';
export const rotator = {
  name: 'upper-token',
  checkSettings() {},
  async create() { return { value: randomBytes(16).toString('hex').toUpperCase() }; },
  async set() {},
  async test({ pending }) {
    if (!/^[0-9A-F]{32}$/.test(String(pending.value))) throw new Error('not an upper-case token');
  },
};
`;

/**
 * A plugin that throws custos errors of its own copy of `@custos/core` (as a plugin beside the
 * server's bundle does): a copy of the built module, which no other module shares.
 */
const STRICT_PLUGIN = `
import { CustosError } from './own-core/custos-error.js';
export const rotator = {
  name: 'strict-token',
  checkSettings(settings) {
    if (typeof settings.account !== 'string')
      throw new CustosError('ERR_INVALID_ARGUMENT', 'settings.account is required');
  },
  async create() { return { value: 'x' }; },
  async set() {},
  async test() {},
};
`;

describe('rotator plugins and databases from the configuration file', () => {
  let dir: string;
  let s: TestServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-rotation-plugins-'));
    await writeFile(join(dir, 'upper.mjs'), UPPER_PLUGIN);
    await mkdir(join(dir, 'own-core'));
    const built = await readFile(
      new URL('../../../core/dist/errors/custos-error.js', import.meta.url),
      'utf8',
    );
    await writeFile(
      join(dir, 'own-core', 'custos-error.js'),
      built.replace(/^\/\/# sourceMappingURL=.*$/m, ''),
    );
    await writeFile(join(dir, 'strict.mjs'), STRICT_PLUGIN);
    const app = new Database(join(dir, 'app.db'));
    app.exec('create table orders (id integer primary key, secret text)');
    app.close();
    s = await startTestServer('sqlite', {
      rotation: parseRotationConfig(
        { plugins: ['upper.mjs', 'strict.mjs'], databases: { app: { path: 'app.db' } } },
        dir,
      ),
    });
  });
  afterAll(async () => {
    await s?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("loads a plugin's rotator at start: policies name it and rotations run it", async () => {
    expect(
      (await s.request('POST', 'secret/data/plug/api', { body: { data: { value: 'old' } } }))
        .status,
    ).toBe(200);
    expect(
      (
        await s.request('POST', 'sys/rotation/secret/plug/api', {
          body: { rotator: 'upper-token', schedule: '90d' },
        })
      ).status,
    ).toBe(204);
    const r = await s.request('POST', 'sys/rotate-secret/secret/plug/api', {
      body: { force: true },
    });
    expect(r.status).toBe(200);
    expect(r.body.data.result).toBe('succeeded');
    const read = await s.request('GET', 'secret/data/plug/api');
    expect(read.body.data.data.value).toMatch(/^[0-9A-F]{32}$/);
  });

  it("answers a plugin's custos error as its own, whichever copy of @custos/core threw it", async () => {
    expect(
      (await s.request('POST', 'secret/data/plug/strict', { body: { data: { value: 'old' } } }))
        .status,
    ).toBe(200);
    const refused = await s.request('POST', 'sys/rotation/secret/plug/strict', {
      body: { rotator: 'strict-token', schedule: '90d', settings: {} },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual(['settings.account is required']);
  });

  it('opens a configured database by name for transit-key rotations; other names are refused', async () => {
    expect((await s.request('POST', 'transit/keys/orders', { body: {} })).status).toBe(200);
    const policy = (database: string) =>
      s.request('POST', 'sys/rotation/secret/keys/orders', {
        body: {
          rotator: 'transit-key',
          schedule: '720h',
          grace_period: '0s',
          settings: {
            key: 'orders',
            targets: [{ database, table: 'orders', id_column: 'id', column: 'secret' }],
          },
        },
      });
    const unknown = await policy('other');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]).toMatch(/no database named other/);
    expect((await policy('app')).status).toBe(204);
    const r = await s.request('POST', 'sys/rotate-secret/secret/keys/orders', {
      body: { force: true },
    });
    expect(r.body.data.result).toBe('succeeded');
  });

  it('refuses to start with a plugin whose export is not a rotator, naming what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['export const other = 1;', /exports no rotator object/],
      ['export const rotator = { name: "Bad Name" };', /no "name"/],
      [
        'export const rotator = { name: "half", checkSettings() {}, create() {}, set() {} };',
        /rotator "half" has no function "test"/,
      ],
      [
        'export default { name: "opt", checkSettings() {}, create() {}, set() {}, test() {}, retire: 1 };',
        /"retire" that is not a function/,
      ],
      [
        'export const rotator = { name: "random", checkSettings() {}, create() {}, set() {}, test() {} };',
        /named random, the name of a rotator the server has/,
      ],
      ['export const rotator = ;', /cannot be loaded/],
    ];
    for (const [i, [source, pattern]] of cases.entries()) {
      const file = join(dir, `bad-${i}.mjs`);
      await writeFile(file, source);
      const start = startServer({
        storage: ':memory:',
        port: 0,
        logLevel: 'silent',
        rotation: parseRotationConfig({ plugins: [file] }, dir),
      });
      await expect(start).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
      await expect(start).rejects.toThrow(pattern);
    }
    const missing = startServer({
      storage: ':memory:',
      port: 0,
      logLevel: 'silent',
      rotation: parseRotationConfig({ plugins: ['nowhere.mjs'] }, dir),
    });
    await expect(missing).rejects.toThrow(/nowhere\.mjs cannot be loaded/);
  });

  it('reads a database password from the environment variable named, and refuses an unset one', async () => {
    const rotation = parseRotationConfig(
      {
        databases: {
          pg: { url: 'postgres://postgres@127.0.0.1:5432/test', password_env: 'PG_PW' },
        },
      },
      dir,
    );
    const planted = 'Planted-Db-Pw-4b2f';
    const started = await startServer({
      storage: ':memory:',
      port: 0,
      logLevel: 'silent',
      rotation,
      env: { PG_PW: planted },
    });
    await started.close();
    const unset = startServer({
      storage: ':memory:',
      port: 0,
      logLevel: 'silent',
      rotation,
      env: {},
    });
    await expect(unset).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    await expect(unset).rejects.toThrow(/environment variable PG_PW \(password_env\) is not set/);
    const unreachable = startServer({
      storage: ':memory:',
      port: 0,
      logLevel: 'silent',
      rotation: parseRotationConfig(
        {
          databases: { pg: { url: 'postgres://postgres@127.0.0.1:1/test', password_env: 'PG_PW' } },
        },
        dir,
      ),
      env: { PG_PW: planted },
    });
    await expect(unreachable).rejects.toThrow(/rotation\.databases\.pg cannot be opened/);
    await expect(unreachable).rejects.not.toThrow(planted);
  });
});
