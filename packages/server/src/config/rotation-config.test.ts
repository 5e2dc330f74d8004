import { describe, expect, it } from 'vitest';
import { parseServerConfig } from './server-config.js';

const base = { storage: 'data/custos.db', audit: [{ type: 'stdout' }] };
const parse = (rotation: unknown) => parseServerConfig({ ...base, rotation }, '/etc/custos');
const refusal = (rotation: unknown) => {
  try {
    parse(rotation);
  } catch (err) {
    expect(err).toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('the rotation section of the configuration file', () => {
  it('reads the scheduler interval, databases by name and plugins, resolving paths', () => {
    const config = parse({
      scheduler_interval: '30s',
      databases: {
        app: { url: 'postgres://rewrap@db.internal:5432/app', password_env: 'APP_DB_PASSWORD' },
        orders: { url: 'postgresql://rewrap@db/orders', password_file: 'secrets/orders-db' },
        local: { path: 'data/app.db' },
      },
      plugins: ['plugins/upper.mjs', '/opt/custos/other.mjs'],
    });
    expect(config.rotation).toEqual({
      schedulerIntervalMs: 30_000,
      databases: {
        app: {
          location: 'postgres://rewrap@db.internal:5432/app',
          password: { env: 'APP_DB_PASSWORD' },
        },
        orders: {
          location: 'postgresql://rewrap@db/orders',
          password: { file: '/etc/custos/secrets/orders-db' },
        },
        local: { location: '/etc/custos/data/app.db' },
      },
      plugins: ['/etc/custos/plugins/upper.mjs', '/opt/custos/other.mjs'],
    });
    expect(parse({ scheduler_interval: 0 }).rotation?.schedulerIntervalMs).toBe(0);
    expect(parse({ approval_retention: '30d' }).rotation?.approvalRetentionMs).toBe(
      30 * 86_400_000,
    );
    expect(parse({}).rotation).toEqual({ databases: {}, plugins: [] });
    expect(parseServerConfig(base, '/etc/custos').rotation).toBeUndefined();
  });

  it('refuses a password written in the file, in a field or in the URL, without echoing it', () => {
    const planted = 'Planted-Pw-7c1e9d';
    for (const db of [
      { url: 'postgres://rewrap@db/app', password: planted },
      { url: `postgres://rewrap:${planted}@db/app` },
    ]) {
      const message = refusal({ databases: { app: db } });
      expect(message).toMatch(/rotation\.databases\.app.*password_env.*password_file/);
      expect(message).not.toContain(planted);
    }
  });

  it('names the field that is wrong', () => {
    const cases: [unknown, RegExp][] = [
      ['60s', /"rotation" must be an object/],
      [{ interval: '60s' }, /unknown field "rotation\.interval"/],
      [{ scheduler_interval: 'soon' }, /rotation\.scheduler_interval.*duration/],
      [{ scheduler_interval: '2d' }, /between 1s and 24h/],
      [{ approval_retention: 'later' }, /rotation\.approval_retention.*duration/],
      [{ approval_retention: '5m' }, /between 1h and 365d/],
      [{ databases: { app: { url: 'mysql://db/app' } } }, /databases\.app\.url.*postgres/],
      [{ databases: { app: {} } }, /databases\.app.*either "url".*or "path"/],
      [
        { databases: { app: { url: 'postgres://u@db/a', path: 'a.db' } } },
        /databases\.app.*either/,
      ],
      [{ databases: { App: { path: 'a.db' } } }, /databases\.App.*lower-case/],
      [{ databases: { app: { path: 'a.db', password_env: 'X' } } }, /SQLite.*no password/],
      [
        { databases: { app: { url: 'postgres://u@db/a', password_env: 'A', password_file: 'f' } } },
        /not both/,
      ],
      [{ databases: { app: { url: 'postgres://u@db/a', password_env: 'A-B' } } }, /password_env/],
      [{ databases: { app: { url: 'postgres://u@db/a', port: 5 } } }, /unknown field.*port/],
      [{ plugins: 'a.mjs' }, /rotation\.plugins/],
      [{ plugins: ['a.mjs', './a.mjs'] }, /names a module twice/],
    ];
    for (const [rotation, pattern] of cases) expect(refusal(rotation)).toMatch(pattern);
  });
});
