/**
 * `custos backup drill` through the real binary: the digest check, a damaged backup (exit 1,
 * nothing left in the scratch directory), a wrong key (exit 2), and restores of plain and
 * custom-format `pg_dump` files into scratch databases on the tests' real PostgreSQL, each
 * dropped afterwards, also when the restore fails.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { POSTGRES_URL, requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

const run = promisify(execFile);
const pg = await requireService('postgres');
const psql = (sql: string, url = POSTGRES_URL) =>
  run('psql', ['-X', '-q', '-At', '-d', url, '-c', sql]);

describe('custos backup drill', { timeout: 60_000 }, () => {
  let dir: string;
  let scratch: string;
  let keyFile: string;
  let n = 0;
  const path = (name: string) => join(dir, `${n++}-${name}`);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-drill-test-'));
    scratch = join(dir, 'scratch');
    await run('mkdir', ['-m', '700', scratch]);
    keyFile = path('backup.key');
    await writeFile(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function encrypted(content: Buffer | string): Promise<string> {
    const input = path('plain');
    await writeFile(input, content);
    const sealed = path('backup.cbk');
    const result = await custos(['backup', 'encrypt', input, '-o', sealed, '--key-file', keyFile]);
    expect(result.code, result.stderr).toBe(0);
    return sealed;
  }

  it('reports size and SHA-256, checks --expect-sha256, and leaves the scratch directory empty', async () => {
    const data = randomBytes(150_000);
    const sha = createHash('sha256').update(data).digest('hex');
    const sealed = await encrypted(data);
    const good = await custos([
      'backup',
      'drill',
      sealed,
      '--key-file',
      keyFile,
      '--expect-sha256',
      sha,
      '--scratch-dir',
      scratch,
      '--json',
    ]);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      plaintextBytes: 150_000,
      sha256: sha,
      digestChecked: true,
    });
    const other = 'f'.repeat(64);
    const bad = await custos([
      'backup',
      'drill',
      sealed,
      '--key-file',
      keyFile,
      '--expect-sha256',
      other,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      new RegExp(`SHA-256 is ${sha}, not the expected ${other}.*ERR_BACKUP_DRILL_FAILED`),
    );
    expect(await readdir(scratch)).toEqual([]);
  });

  it('a damaged backup fails the drill (exit 1); a wrong key is an error (exit 2); no plaintext is left', async () => {
    const sealed = await encrypted(randomBytes(200_000));
    const bytes = await readFile(sealed);
    bytes[bytes.length - 70] = (bytes[bytes.length - 70] as number) ^ 1;
    await writeFile(sealed, bytes);
    const damaged = await custos([
      'backup',
      'drill',
      sealed,
      '--key-file',
      keyFile,
      '--scratch-dir',
      scratch,
    ]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/drill failed.*ERR_DECRYPTION_FAILED/);
    const otherKey = path('other.key');
    await writeFile(otherKey, randomBytes(32).toString('hex'), { mode: 0o600 });
    const wrong = await custos([
      'backup',
      'drill',
      sealed,
      '--key-file',
      otherKey,
      '--scratch-dir',
      scratch,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/ERR_BACKUP_KEY_MISMATCH/);
    expect(await readdir(scratch)).toEqual([]);
  });

  describe.runIf(pg)('--restore-into the real PostgreSQL', () => {
    const schema = `drill_src_${randomBytes(4).toString('hex')}`;
    const drills = async () =>
      (await psql("SELECT datname FROM pg_database WHERE datname LIKE 'custos_drill_%'")).stdout;
    beforeAll(async () => {
      await psql(
        `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.patients (id int primary key, name text); CREATE TABLE ${schema}.visits (id int); INSERT INTO ${schema}.patients SELECT g, 'p' || g FROM generate_series(1, 25) g; INSERT INTO ${schema}.visits SELECT generate_series(1, 17);`,
      );
    });
    afterAll(async () => {
      await psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });

    for (const format of ['plain', 'custom'] as const) {
      it(`restores a ${format} pg_dump into a scratch database, counts tables and rows, and drops it`, async () => {
        const dump = path(`${format}.dump`);
        await run('pg_dump', [
          ...(format === 'custom' ? ['-Fc'] : []),
          '-n',
          schema,
          '-f',
          dump,
          POSTGRES_URL,
        ]);
        const sealed = await encrypted(await readFile(dump));
        const before = await drills();
        const result = await custos([
          'backup',
          'drill',
          sealed,
          '--key-file',
          keyFile,
          '--restore-into',
          POSTGRES_URL,
          '--json',
        ]);
        expect(result.code, result.stderr).toBe(0);
        const report = JSON.parse(result.stdout);
        expect(report.restore).toMatchObject({ format, tables: 2, rows: 42, kept: false });
        expect(report.restore.database).toMatch(/^custos_drill_[0-9a-f]{12}$/);
        expect(await drills()).not.toContain(report.restore.database);
        expect(await drills()).toBe(before);
      });
    }

    it('a dump that does not restore fails the drill (exit 1) and its scratch database is dropped', async () => {
      const sealed = await encrypted('CREATE TABLE t (id int);\nTHIS IS NOT SQL;\n');
      const before = await drills();
      const result = await custos([
        'backup',
        'drill',
        sealed,
        '--key-file',
        keyFile,
        '--restore-into',
        POSTGRES_URL,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/drill failed: .*syntax error.*ERR_BACKUP_DRILL_FAILED/);
      expect(await drills()).toBe(before);
    });
  });
});
