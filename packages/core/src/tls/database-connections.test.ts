import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../redaction/index.js';
import {
  pgConnectionOptions,
  pgConnectionOptionsFromUrl,
  redisConnectionOptions,
} from './index.js';

const CANARY = 'canary-db-pass-4b7e1d9a';

function failure(fn: () => unknown): { code?: string | undefined; message: string } | undefined {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  return undefined;
}

describe('database and Redis connection options', () => {
  let dir: string;
  let caFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-db-tls-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads sslmode and sslrootcert as libpq does, and takes them out of the URL', () => {
    expect(pgConnectionOptionsFromUrl('postgres://app@db:5432/app')).toEqual({
      connectionString: 'postgres://app@db:5432/app',
      ssl: false,
    });
    const full = pgConnectionOptionsFromUrl(
      `postgres://app@db/app?sslmode=verify-full&sslrootcert=${caFile}&application_name=x`,
    );
    expect(full.connectionString).toBe('postgres://app@db/app?application_name=x');
    expect(full.ssl).toEqual({ rejectUnauthorized: true, ca: expect.stringContaining('TEST') });
    expect(pgConnectionOptionsFromUrl('postgres://db/app?sslmode=require').ssl).toEqual({
      rejectUnauthorized: false,
    });
    const ca = pgConnectionOptionsFromUrl('postgres://db/app?sslmode=verify-ca').ssl;
    expect(ca).toMatchObject({ rejectUnauthorized: true });
    expect(ca !== false && ca.checkServerIdentity?.()).toBeUndefined();
    expect(pgConnectionOptionsFromUrl('postgres://db/app?sslmode=prefer').ssl).toBe(false);
    // As libpq: PGSSLMODE and PGSSLROOTCERT when the URL says nothing.
    expect(
      pgConnectionOptionsFromUrl('postgres://db/app', undefined, {
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: caFile,
      }).ssl,
    ).toEqual({ rejectUnauthorized: true, ca: expect.stringContaining('TEST') });
    expect(
      pgConnectionOptions({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/app',
        PGSSLMODE: 'verify-full',
      }).ssl,
    ).toEqual({ rejectUnauthorized: true });
    expect(
      failure(() => pgConnectionOptionsFromUrl('postgres://db/app?sslmode=always'))?.code,
    ).toBe('ERR_TLS_CONFIG');
    expect(
      failure(() =>
        pgConnectionOptionsFromUrl(
          `postgres://u:${CANARY}@db/app?sslmode=verify-full&sslrootcert=${join(dir, 'none.pem')}`,
        ),
      ),
    ).toEqual({
      code: 'ERR_TLS_CONFIG',
      message: `cannot read the CA bundle ${join(dir, 'none.pem')}: ENOENT`,
    });
    expect(failure(() => pgConnectionOptionsFromUrl(`::${CANARY}`))?.message).not.toContain(CANARY);
  });

  it('refuses plain or unverified PostgreSQL in production unless explicitly allowed', () => {
    const production = { NODE_ENV: 'production' };
    for (const url of [
      `postgres://app:${CANARY}@db/app`,
      `postgres://app:${CANARY}@db/app?sslmode=require`,
      `postgres://app:${CANARY}@db/app?sslmode=prefer`,
    ]) {
      const refused = failure(() => pgConnectionOptions({ ...production, DATABASE_URL: url }));
      expect(refused?.code).toBe('ERR_INSECURE_CONNECTION');
      expect(refused?.message).toMatch(/DB_ALLOW_INSECURE=true/);
      expect(refused?.message).not.toContain(CANARY);
      expect(
        pgConnectionOptions({ ...production, DATABASE_URL: url, DB_ALLOW_INSECURE: 'true' })
          .connectionString,
      ).toContain('db/app');
      // Outside production: allowed.
      expect(pgConnectionOptions({ DATABASE_URL: url }).connectionString).toContain('db/app');
    }
    expect(
      pgConnectionOptions({
        ...production,
        DATABASE_URL: `postgres://app:${CANARY}@db/app?sslmode=verify-full`,
      }).ssl,
    ).toEqual({ rejectUnauthorized: true });
  });

  it("builds the URL from the seeds' DB_* variables", () => {
    const options = pgConnectionOptions({
      NODE_ENV: 'production',
      DB_HOST: 'db.internal',
      DB_PORT: '6432',
      DB_NAME: 'app',
      DB_USER: 'app user',
      DB_PASSWORD: CANARY,
      DB_SSL: 'true',
      DB_SSL_CA: caFile,
    });
    expect(options.connectionString).toBe(`postgres://app%20user:${CANARY}@db.internal:6432/app`);
    expect(options.ssl).toEqual({ rejectUnauthorized: true, ca: expect.stringContaining('TEST') });
    const unverified = failure(() =>
      pgConnectionOptions({
        NODE_ENV: 'production',
        DB_HOST: 'db',
        DB_SSL: 'true',
        DB_SSL_REJECT_UNAUTHORIZED: 'false',
      }),
    );
    expect(unverified?.code).toBe('ERR_INSECURE_CONNECTION');
    expect(unverified?.message).toContain('rejectUnauthorized: false');
    const bad = failure(() => pgConnectionOptions({ DB_PORT: 'x', DB_SSL: 'yes' }));
    expect(bad?.code).toBe('ERR_SECRETS_INVALID');
    expect(bad?.message).toMatch(/DB_PORT/);
    expect(bad?.message).toMatch(/DB_SSL/);
    expect(bad?.message).toMatch(/DATABASE_URL: missing/);
  });

  it('registers the passwords it reads for redaction, as secrets.load does', () => {
    const fromVariable = 'canary-pg-variable-5e0c2b7d91';
    const inUrl = 'canary-pg-url-8d3a6f1c04';
    const redisPassword = 'canary-redis-2f9b8e7a13';
    pgConnectionOptions({ DB_HOST: 'db', DB_PASSWORD: fromVariable });
    pgConnectionOptions({ DATABASE_URL: `postgres://app:${inUrl}@db/app` });
    redisConnectionOptions({ REDIS_HOST: 'cache', REDIS_PASSWORD: redisPassword });
    const line = redact(`connect failed: ${fromVariable} ${inUrl} ${redisPassword}`);
    expect(line).not.toContain(fromVariable);
    expect(line).not.toContain(inUrl);
    expect(line).not.toContain(redisPassword);
  });

  it('refuses plain or unverified Redis in production unless explicitly allowed', () => {
    const production = { NODE_ENV: 'production' };
    const plain = failure(() =>
      redisConnectionOptions({ ...production, REDIS_HOST: 'cache', REDIS_PASSWORD: CANARY }),
    );
    expect(plain?.code).toBe('ERR_INSECURE_CONNECTION');
    expect(plain?.message).not.toContain(CANARY);
    expect(redisConnectionOptions({ ...production, REDIS_URL: 'rediss://cache:6380' })).toEqual({
      url: 'rediss://cache:6380',
      tls: { rejectUnauthorized: true },
    });
    expect(
      redisConnectionOptions({
        ...production,
        REDIS_HOST: 'cache',
        REDIS_TLS: 'true',
        REDIS_TLS_CA: caFile,
        REDIS_PASSWORD: CANARY,
      }),
    ).toEqual({
      url: `redis://:${CANARY}@cache:6379`,
      tls: { rejectUnauthorized: true, ca: expect.stringContaining('TEST') },
    });
    expect(
      failure(() =>
        redisConnectionOptions({
          ...production,
          REDIS_URL: 'rediss://cache',
          REDIS_TLS_REJECT_UNAUTHORIZED: 'false',
        }),
      )?.code,
    ).toBe('ERR_INSECURE_CONNECTION');
    expect(
      redisConnectionOptions({
        ...production,
        REDIS_URL: 'redis://cache',
        REDIS_ALLOW_INSECURE: 'true',
      }),
    ).toEqual({
      url: 'redis://cache',
    });
    expect(redisConnectionOptions({ REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual({
      url: 'redis://127.0.0.1:6379',
    });
    expect(failure(() => redisConnectionOptions({ REDIS_URL: 'http://cache' }))?.message).toMatch(
      /redis:\/\//,
    );
  });
});
