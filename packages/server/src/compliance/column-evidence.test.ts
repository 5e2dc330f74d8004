import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEncryptionStatus } from './column-status.js';
import { judgeControls } from './controls.js';
import type { ComplianceEvidence } from './evidence.js';

const NOW = new Date('2026-12-04T12:00:00.000Z');

/** Evidence on which encryption at rest passes before any column is added. */
function evidence(columns: ComplianceEvidence['columns']): ComplianceEvidence {
  return {
    address: 'https://custos.test:8200',
    seal: { type: 'shamir', threshold: 3, shares: 5 },
    barrierKey: { term: 2, ageDays: 10 },
    policies: { names: ['default'], broad: [] },
    tokenTtl: { defaultSeconds: 3600, maxSeconds: 86_400 },
    authMethods: ['token/'],
    audit: { devices: [], signedCheckpoints: 0, files: [] },
    transitKeys: [],
    transitMounts: [],
    classifiedSecrets: [],
    rotation: [],
    transport: { tls: false },
    drills: [],
    drillLogs: [],
    certificates: [],
    columns,
  };
}

/** A status report as `custos encryption status --json` writes it. */
function status(
  table: string,
  column: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    table,
    takenAt: '2026-12-04T11:00:00.000Z',
    rows: 3,
    decryptChecked: true,
    columns: [
      {
        column: 'ssn',
        nulls: 0,
        plaintext: 0,
        malformed: 0,
        failing: 0,
        versions: [
          {
            keyId: 'k',
            keyName: 'default',
            keyVersion: 2,
            deterministic: false,
            current: true,
            values: 3,
          },
        ],
        ...column,
      },
    ],
    ...extra,
  };
}

describe('encrypted columns as encryption-at-rest evidence, by data class', () => {
  let dir: string;
  const write = async (name: string, content: unknown) => {
    const file = join(dir, name);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const judge = async (...files: string[]) => {
    const columns = [];
    for (const file of files) columns.push(...(await readEncryptionStatus(file)));
    const report = judgeControls(evidence(columns), 'all', NOW);
    const control = (id: string) => report.controls.find((c) => c.id === id);
    return { report, encryption: control('164.312(a)(2)(iv)'), cc61: control('CC6.1') };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-column-evidence-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes with no column, and with a PHI column all current and decrypting', async () => {
    expect((await judge()).encryption?.status).toBe('pass');
    const file = await write('current.json', status('patients', { data_class: 'PHI' }));
    const { report, encryption, cc61 } = await judge(file);
    expect(encryption?.status).toBe('pass');
    expect(encryption?.evidence).toContainEqual({
      claim: `PHI column patients.ssn: all 3 values encrypted under the current key version and decrypting (status of 2026-12-04T11:00:00.000Z, ${file})`,
      supports: true,
      recheck:
        'custos encryption status --db <db> --table patients --columns ssn --data-class PHI --keyring <file> --require-current',
      dataClass: 'PHI',
    });
    expect(cc61?.evidence.map((e) => e.claim)).toContain(encryption?.evidence.at(-1)?.claim);
    expect(report.dataClasses).toEqual([
      {
        dataClass: 'PHI',
        secrets: [],
        transitKeys: [],
        columns: [
          {
            column: 'patients.ssn',
            state: 'encrypted',
            plaintext: 0,
            failing: 0,
            oldVersion: 0,
            takenAt: '2026-12-04T11:00:00.000Z',
          },
        ],
      },
    ]);
    expect(report).not.toHaveProperty('unclassifiedColumns');
  });

  it('fails a regulated column with a plaintext or a failing value, naming table.column and the count', async () => {
    for (const dataClass of ['PHI', 'PII', 'credential', 'payment']) {
      const plain = await write(
        `plain-${dataClass}.json`,
        status('visits', { data_class: dataClass, plaintext: 2 }),
      );
      const { encryption, cc61 } = await judge(plain);
      expect(encryption?.status).toBe('fail');
      expect(cc61?.status).toBe('fail');
      expect(encryption?.evidence).toContainEqual(
        expect.objectContaining({
          claim: expect.stringMatching(
            new RegExp(`^${dataClass} column visits\\.ssn: 2 plaintext values, 0 values failing`),
          ),
          supports: false,
          dataClass,
        }),
      );
    }
    // A damaged envelope counts as failing too, and outranks an old version.
    const failing = await write(
      'failing.json',
      status('visits', {
        data_class: 'PHI',
        failing: 1,
        malformed: 1,
        versions: [{ current: false, values: 1 }],
      }),
    );
    const { encryption } = await judge(failing);
    expect(encryption?.status).toBe('fail');
    expect(encryption?.evidence.at(-1)?.claim).toMatch(/2 values failing to decrypt/);
  });

  it('leaves the control partial for old key versions, or a status taken without keys', async () => {
    const old = await write(
      'old.json',
      status('claims', {
        data_class: 'payment',
        versions: [
          { current: true, values: 1 },
          { current: false, values: 2 },
        ],
      }),
    );
    const { encryption, report } = await judge(old);
    expect(encryption?.status).toBe('partial');
    expect(encryption?.evidence.at(-1)).toMatchObject({
      claim: expect.stringMatching(
        /^payment column claims\.ssn: 2 values under an old key version \(rotation incomplete/,
      ),
      dataClass: 'payment',
    });
    expect(encryption?.evidence.at(-1)).not.toHaveProperty('supports');
    expect(report.dataClasses?.[0]?.columns?.[0]?.state).toBe('rotation-incomplete');

    const keyless = await write(
      'keyless.json',
      status('claims', { data_class: 'PHI', versions: [{ values: 3 }] }, { decryptChecked: false }),
    );
    expect((await judge(keyless)).encryption?.status).toBe('partial');
    const noDecrypt = await write(
      'no-decrypt.json',
      status('claims', { data_class: 'PHI' }, { decryptChecked: false }),
    );
    expect((await judge(noDecrypt)).encryption?.status).toBe('partial');
  });

  it('lists a column without a class as unclassified: partial, never more', async () => {
    const bare = await write(
      'bare.json',
      status('notes', { plaintext: 5 }, { tenantColumn: 'org' }),
    );
    const { encryption, report } = await judge(bare);
    expect(encryption?.status).toBe('partial');
    expect(encryption?.evidence.at(-1)).toEqual({
      claim: expect.stringMatching(
        /^unclassified column notes\.ssn: 5 plaintext values.*give it a class/,
      ),
      recheck:
        'custos encryption status --db <db> --table notes --columns ssn --tenant-column org --keyring <file> --require-current',
    });
    expect(report.dataClasses).toEqual([]);
    expect(report.unclassifiedColumns).toEqual([
      expect.objectContaining({ column: 'notes.ssn', state: 'unprotected', plaintext: 5 }),
    ]);
    // An internal column is listed as a fact, not judged.
    const internal = await write(
      'internal.json',
      status('notes', { data_class: 'internal', plaintext: 5 }),
    );
    const judged = await judge(internal);
    expect(judged.encryption?.status).toBe('pass');
    expect(judged.encryption?.evidence.at(-1)).not.toHaveProperty('supports');
  });

  it('refuses a file that is not a status report, naming the file and field, never its content', async () => {
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    const cases: [unknown, RegExp][] = [
      [`{"table": "${canary}`, /not JSON/],
      [[canary], /not a JSON object/],
      [{ ...status('t', {}), table: undefined, note: canary }, /table is missing/],
      [status('t', {}, { takenAt: canary }), /takenAt is not a time/],
      [status('t', {}, { decryptChecked: canary }), /decryptChecked/],
      [status('t', {}, { columns: [] }), /columns is not a list/],
      [status('t', { plaintext: canary }), /columns\[0\]\.plaintext is not a count/],
      [status('t', { failing: -1 }), /columns\[0\]\.failing is not a count/],
      [status('t', { versions: [{ current: canary, values: 1 }] }), /versions\[0\]\.current/],
      [status('t', { data_class: canary }), /data_class is not one of the data classes/],
      [status('t', { data_class: 'phi' }), /canonically spelled/],
    ];
    for (const [i, [content, problem]] of cases.entries()) {
      const file = await write(`bad-${i}.json`, content);
      const error = await readEncryptionStatus(file).then(
        () => undefined,
        (err: unknown) => err as Error & { code?: string },
      );
      expect(error?.code, String(i)).toBe('ERR_INVALID_ARGUMENT');
      expect(error?.message).toContain(file);
      expect(error?.message).toMatch(problem);
      expect(error?.message).not.toContain(canary);
    }
  });
});
