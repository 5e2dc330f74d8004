import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, readKeyringFile, writeKeyringFile } from '@custos/core/crypto';
import { createFieldCipher, createRowCodec } from '@custos/core/fields';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

const CANARY = 'canary-7f3a9c@example.com';

describe('custos reencrypt --blind-index (SQLite)', () => {
  let dir: string;
  let file: string;
  let dbFile: string;
  let db: Database.Database;
  /** `custos encryption status` of the table's blind index. */
  const indexStatus = (...extra: string[]) => [
    'encryption',
    'status',
    '--db',
    dbFile,
    '--table',
    'people',
    '--columns',
    'email',
    '--tenant-column',
    'tenant',
    '--keyring',
    file,
    '--index-columns',
    'email_bidx',
    ...extra,
  ];
  const flags = (...extra: string[]) => [
    'reencrypt',
    '--db',
    dbFile,
    '--table',
    'people',
    '--columns',
    'email',
    '--tenant-column',
    'tenant',
    '--keyring',
    file,
    ...extra,
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-bidx-cli-'));
    file = join(dir, 'keyring.json');
    dbFile = join(dir, 'app.db');
    const keyring = new Keyring();
    keyring.createKey('default');
    keyring.createKey('blind-index');
    await writeKeyringFile(file, keyring);
    const codec = createRowCodec(createFieldCipher({ keyring }), {
      table: 'people',
      idColumn: 'id',
      tenantColumn: 'tenant',
      columns: { email: { blindIndex: { indexColumn: 'email_bidx', normalize: true } } },
    });
    db = new Database(dbFile);
    db.exec(
      'create table people (id integer primary key, tenant text, email text, email_bidx text)',
    );
    const insert = db.prepare('insert into people values (@id, @tenant, @email, @email_bidx)');
    for (let id = 1; id <= 40; id++) {
      insert.run(codec.encryptRow({ id, tenant: 't1', email: id === 7 ? CANARY : `u${id}@x.org` }));
    }
    expect((await custos(['keyring', 'rotate', '--file', file, '--blind-index'])).code).toBe(0);
  });
  afterAll(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses flags that do not fit, with exit 2 and nothing written', async () => {
    const before = db.prepare('select * from people order by id').all();
    for (const [extra, message] of [
      [['--index-normalize'], /go with --blind-index/],
      [['--retire-old-versions'], /go with --blind-index/],
      [['--blind-index', 'email'], /column=index pairs/],
      [['--blind-index', 'email=a=b'], /column=index pairs/],
      [['--blind-index', 'ssn=ssn_bidx'], /ssn must be one of --columns/],
      [['--blind-index', 'email=email_bidx', '--index-bits', '0'], /--index-bits/],
      [['--blind-index', 'email=email_bidx', '--retire-old-versions', '--dry-run'], /verified run/],
      [
        ['--blind-index', 'email=email_bidx', '--blind-index-key-name', 'default'],
        /key of their own/,
      ],
    ] as const) {
      const result = await custos(flags(...extra));
      expect(result, extra.join(' ')).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(message),
      });
    }
    expect(db.prepare('select * from people order by id').all()).toEqual(before);
  }, 60_000);

  it('encryption status counts indexes per blind-index key version; --require-current wants them all current', async () => {
    const status = indexStatus();
    const result = await custos(status);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /people\.email_bidx \(blind index\):\n {2}blind-index v1 \(old\): 40\n {2}null: 0/,
    );
    expect((await custos([...status, '--require-current'])).code).toBe(1);
  }, 60_000);

  it('keeps the old version while a row is not done (exit 1), then rewrites and retires it', async () => {
    db.prepare("update people set tenant = 't2' where id = 9").run(); // no longer opens
    const blocked = await custos(
      flags('--blind-index', 'email=email_bidx', '--index-normalize', '--retire-old-versions'),
    );
    expect(blocked.code, blocked.stderr).toBe(1);
    expect(blocked.stdout).toMatch(/39 blind indexes rewritten.*1 failing/);
    expect(blocked.stderr).toMatch(/older blind-index key versions kept/);
    expect((await readKeyringFile(file)).info('blind-index').versions.map((v) => v.state)).toEqual([
      'enabled',
      'enabled',
    ]);
    db.prepare("update people set tenant = 't1' where id = 9").run();
    const done = await custos(
      flags('--blind-index', 'email=email_bidx', '--index-normalize', '--retire-old-versions'),
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/1 blind indexes rewritten, 39 already current/);
    expect(done.stdout).toMatch(/verified: 40 indexes current/);
    expect(done.stdout).toMatch(/retired "blind-index" v1 \(disabled\)/);
    expect((await readKeyringFile(file)).info('blind-index').versions.map((v) => v.state)).toEqual([
      'disabled',
      'enabled',
    ]);
    const current = await custos(indexStatus('--require-current'));
    expect(current.code, current.stdout).toBe(0);
    expect(current.stdout).toMatch(/blind-index v2 \(current\): 40/);
    for (const output of [blocked, done]) {
      expect(output.stdout + output.stderr).not.toContain(CANARY);
    }
  }, 60_000);
});
