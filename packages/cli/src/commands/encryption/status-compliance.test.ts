import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, writeKeyringFile } from '@custos/core/crypto';
import { createFieldCipher } from '@custos/core/fields';
import type { ComplianceReport } from '@custos/server/compliance';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';

// `custos encryption status --data-class` on a real SQLite table, read back by
// `custos compliance report --encryption-status` against a dev server.
describe('encrypted columns in the compliance report', { timeout: 120_000 }, () => {
  let dir: string;
  let dbFile: string;
  let keyringFile: string;
  let server: DevServer;
  const token = `root-${randomBytes(8).toString('hex')}`;
  const canary = `CANARY-${randomBytes(12).toString('hex')}`;
  const env = () => ({ CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token });

  /** Takes the status of `table.column` with `extra` flags into `<table>.json`. */
  async function status(table: string, column: string, ...extra: string[]) {
    const args = ['encryption', 'status', '--db', dbFile, '--table', table, '--columns', column];
    const run = await custos([...args, '--keyring', keyringFile, ...extra]);
    const file = join(dir, `${table}.json`);
    if (extra.includes('--json')) await writeFile(file, run.stdout);
    return { ...run, file };
  }
  const report = (...files: string[]) =>
    custos(
      [
        'compliance',
        'report',
        '--control',
        '164.312(a)(2)(iv)',
        '--format',
        'json',
        ...files.flatMap((f) => ['--encryption-status', f]),
      ],
      { env: env() },
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-status-compliance-'));
    dbFile = join(dir, 'app.db');
    keyringFile = join(dir, 'keyring.json');
    const keyring = new Keyring();
    keyring.createKey('default');
    const db = new Database(dbFile);
    const fill = (table: string, column: string, value: (id: number) => string | undefined) => {
      db.exec(`create table ${table} (id integer primary key, ${column} text)`);
      const fc = createFieldCipher({ keyring });
      const insert = db.prepare(`insert into ${table} values (?, ?)`);
      for (let id = 1; id <= 4; id++) {
        const plain = value(id);
        insert.run(id, plain ?? fc.encrypt(`${table}-${id}`, { table, column, rowId: id }));
      }
    };
    fill('claims', 'card', () => undefined); // under version 1, old once rotated
    keyring.rotate('default');
    fill('patients', 'ssn', () => undefined);
    fill('visits', 'ssn', (id) => (id === 3 ? canary : undefined)); // one plaintext value
    fill('notes', 'body', () => undefined);
    db.close();
    await writeKeyringFile(keyringFile, keyring);
    server = await startDevServer(token);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the class (canonical; <column>= wins), the table and when, in JSON and text', async () => {
    const run = await status('patients', 'ssn', '--data-class', 'phi', '--json');
    expect(run.code, run.stderr).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ table: 'patients', rows: 4, decryptChecked: true });
    expect(Date.parse(json.takenAt)).not.toBeNaN();
    expect(json.columns).toEqual([expect.objectContaining({ column: 'ssn', data_class: 'PHI' })]);
    const text = await status('patients', 'ssn', '--data-class', 'ssn=PII', '--data-class', 'PHI');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^patients\.ssn \(PII\):$/m);
    expect(text.stdout).toMatch(/^4 rows in .* at \d{4}-\d\d-\d\dT/);
  });

  it('refuses an unknown class or a column not listed (exit 2), naming the classes only', async () => {
    for (const value of [canary, ` PHI`, 'ΡΗΙ', `${canary}=PHI`, `ssn=${canary}`]) {
      const run = await status('patients', 'ssn', '--data-class', value, '--json');
      expect(run.code, value).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/--data-class .*\[ERR_INVALID_ARGUMENT\]/);
      expect(run.stderr).not.toContain(canary);
    }
    const unknown = await status('patients', 'ssn', '--data-class', canary);
    expect(unknown.stderr).toContain('PHI, PII, credential, payment, internal');
    const twice = await status('patients', 'ssn', '--data-class', 'PHI', '--data-class', 'PII');
    expect(twice.code).toBe(2);
  });

  it('judges each column by class: pass, fail naming it, partial, unclassified', async () => {
    const patients = await status('patients', 'ssn', '--data-class', 'PHI', '--json');
    const visits = await status('visits', 'ssn', '--data-class', 'PHI', '--json');
    const claims = await status('claims', 'card', '--data-class', 'payment', '--json');
    const notes = await status('notes', 'body', '--json');
    expect([patients.code, visits.code, claims.code, notes.code]).toEqual([0, 0, 0, 0]);
    expect(visits.stdout + visits.stderr).not.toContain(canary);

    const all = await report(patients.file, visits.file, claims.file, notes.file);
    expect(all.code, all.stderr).toBe(1);
    const parsed = JSON.parse(all.stdout) as ComplianceReport;
    const control = parsed.controls[0];
    expect(control?.status).toBe('fail');
    const about = (name: string) => control?.evidence.find((e) => e.claim.includes(` ${name}:`));
    expect(about('patients.ssn')).toMatchObject({
      supports: true,
      dataClass: 'PHI',
      recheck:
        'custos encryption status --db <db> --table patients --columns ssn --data-class PHI --keyring <file> --require-current',
    });
    expect(about('visits.ssn')).toMatchObject({
      claim: expect.stringMatching(/^PHI column visits\.ssn: 1 plaintext value, 0 values failing/),
      supports: false,
    });
    expect(about('claims.card')).toMatchObject({
      claim: expect.stringMatching(
        /^payment column claims\.card: 4 values under an old key version/,
      ),
    });
    expect(about('claims.card')).not.toHaveProperty('supports');
    expect(about('notes.body')?.claim).toMatch(/^unclassified column notes\.body: /);
    expect(parsed.dataClasses?.map((c) => [c.dataClass, c.columns?.map((x) => x.state)])).toEqual([
      ['PHI', ['encrypted', 'unprotected']],
      ['payment', ['rotation-incomplete']],
    ]);
    expect(parsed.unclassifiedColumns?.map((c) => c.column)).toEqual(['notes.body']);
    expect(all.stdout + all.stderr).not.toContain(canary);

    // Without the failing column nothing fails: the old payment column leaves it partial.
    const rest = await report(patients.file, claims.file);
    expect(rest.code, rest.stderr).toBe(0);
    expect((JSON.parse(rest.stdout) as ComplianceReport).controls[0]?.status).toBe('partial');
  });

  it('stops on a file that is not a status report (exit 2), naming it, not echoing it', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, `{"table": "${canary}", "takenAt": "${canary}"}`);
    const run = await report(bad);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${bad} is not a \`custos encryption status --json\` report`);
    expect(run.stderr).not.toContain(canary);
    const truncated = join(dir, 'truncated.json');
    await writeFile(truncated, `{"table": "${canary}`);
    const cut = await report(truncated);
    expect(cut).toMatchObject({ code: 2, stderr: expect.stringMatching(/not JSON/) });
    expect(cut.stderr).not.toContain(canary);
  });
});
