/**
 * `custos reencrypt --kms-env` and `custos encryption status --kms-env`: the KMS comes from
 * KMS_PROVIDER and its variables, as the application's `openKmsFromEnvironment()` reads them.
 * Here KMS_PROVIDER=aws against the KMS API of a real `custos server --dev` started here (a
 * transit key is a KMS key whose key id is its name); the application encrypts through the same
 * AWS provider. SQLite table.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFieldCipher } from '@custos/core/fields';
import { createAwsKms } from '@custos/core/kms';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';

const CANARY = `CANARY-${randomBytes(6).toString('hex')}`;
// The dev server's KMS API answers as this region and account.
const ARN = 'arn:aws:kms:us-east-1:000000000000:key';

describe('custos reencrypt / encryption status --kms-env (KMS_PROVIDER=aws)', () => {
  const token = `root-${randomBytes(8).toString('hex')}`;
  let server: DevServer;
  let dir: string;
  let db: Database.Database;
  let dbFile: string;
  let credentials: { accessKeyId: string; secretAccessKey: string };

  const api = async (method: string, path: string, body: unknown = {}) => {
    const response = await fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      ...(method === 'GET' ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, path).toBeLessThan(300);
    return response.status === 204 ? null : await response.json();
  };
  /** The environment the application runs with, for the key `keyId`. */
  const envFor = (keyId: string, more: Record<string, string> = {}) => ({
    KMS_PROVIDER: 'aws',
    AWS_REGION: 'us-east-1',
    AWS_KMS_KEY_ID: keyId,
    AWS_KMS_ACCOUNT_ID: '000000000000',
    AWS_ENDPOINT_URL_KMS: server.url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...more,
  });
  const appCipher = (keyId: string) =>
    createFieldCipher({
      kms: createAwsKms({
        keyId,
        region: 'us-east-1',
        endpoint: server.url,
        clientConfig: { credentials, maxAttempts: 1 },
      }),
    });
  const ssn = (id: number) => ({
    table: 'people',
    column: 'ssn',
    rowId: id,
    tenantId: `t${id % 3}`,
  });
  const flags = () => [
    '--db',
    dbFile,
    '--table',
    'people',
    '--columns',
    'ssn',
    '--tenant-column',
    'tenant',
    '--kms-env',
  ];

  beforeAll(async () => {
    server = await startDevServer(token);
    dir = await mkdtemp(join(tmpdir(), 'custos-reencrypt-kms-env-'));
    await api('POST', 'sys/policies/acl/kms-fields', {
      policy: JSON.stringify({
        path: {
          'transit/*': { capabilities: ['create', 'read', 'update', 'list'] },
          'aws/kms/*': { capabilities: ['read', 'list'] },
        },
      }),
    });
    const issued = (await api('POST', 'aws/access-key', { policies: ['kms-fields'] })) as {
      data: { access_key_id: string; secret_access_key: string };
    };
    credentials = {
      accessKeyId: issued.data.access_key_id,
      secretAccessKey: issued.data.secret_access_key,
    };
    await api('POST', 'transit/keys/fields-a');
    await api('POST', 'transit/keys/fields-b');
    dbFile = join(dir, 'app.db');
    db = new Database(dbFile);
    db.exec('create table people (id integer primary key, tenant text, ssn text)');
    const fc = appCipher('fields-a');
    const insert = db.prepare('insert into people values (?, ?, ?)');
    for (let id = 1; id <= 30; id++) {
      insert.run(id, `t${id % 3}`, await fc.encrypt(id === 5 ? CANARY : `ssn-${id}`, ssn(id)));
    }
  }, 30_000);
  afterAll(async () => {
    db?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts values per KMS key, moves them to the key the environment names, verifies', async () => {
    const status = await custos(['encryption', 'status', ...flags()], {
      env: envFor('fields-a'),
    });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`key ${ARN}/fields-a v1 (current): 30`);
    expect(status.stdout).toMatch(/failing to decrypt: 0/);

    // The application moves to another key: the old values are no longer current.
    const moved = envFor('fields-b', {
      KEY_ROTATION_ENABLED: 'true',
      KEY_ROTATION_INTERVAL_DAYS: '90',
    });
    const before = await custos(['encryption', 'status', ...flags(), '--require-current'], {
      env: moved,
    });
    expect(before.code, before.stderr).toBe(1);
    expect(before.stdout).toContain(`key ${ARN}/fields-a v1 (old): 30`);
    const run = await custos(['reencrypt', ...flags(), '--batch', '7', '--json'], { env: moved });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      complete: true,
      stats: { reencrypted: 30, verified: 30 },
    });
    const after = await custos(['encryption', 'status', ...flags(), '--require-current'], {
      env: moved,
    });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain(`key ${ARN}/fields-b v1 (current): 30`);
    // Neither command registered rotation (they only read the settings).
    const key = (await api('GET', 'transit/keys/fields-b')) as {
      data: { auto_rotate_period: number };
    };
    expect(key.data.auto_rotate_period).toBe(0);

    const row = db.prepare('select ssn from people where id = 5').get() as { ssn: string };
    expect(await appCipher('fields-b').decrypt(row.ssn, ssn(5))).toBe(CANARY);
    for (const output of [status, before, run, after]) {
      expect(output.stdout + output.stderr).not.toContain(CANARY);
    }
  });

  it('exits 2 with a typed error for a bad environment or conflicting flags, writing nothing', async () => {
    const rows = db.prepare('select * from people order by id').all();
    const missing = await custos(['reencrypt', ...flags()], {
      env: { KMS_PROVIDER: 'aws', AWS_REGION: 'us-east-1' },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ERR_KMS_CONFIG/);
    expect(missing.stderr).toMatch(/AWS_KMS_KEY_ID/);
    const both = await custos(['encryption', 'status', ...flags(), '--transit-key', 'x'], {
      env: envFor('fields-b'),
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--kms-env .*leave out --transit-key/);
    const refused = await custos(['reencrypt', ...flags()], {
      env: envFor('fields-b', { AWS_SECRET_ACCESS_KEY: 'x'.repeat(40) }),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ERR_KMS_LOGIN_FAILED/);
    expect(refused.stderr).not.toContain('x'.repeat(40));
    expect(db.prepare('select * from people order by id').all()).toEqual(rows);
  });
});
