import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@custos/server';
import type { ComplianceReport, ControlResult } from '@custos/server/compliance';
import { createTestPki } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';
import { renderHtml } from './render-html.js';
import { renderText } from './render-text.js';

const statusOf = (report: ComplianceReport) =>
  Object.fromEntries(report.controls.map((c) => [c.id, c.status]));
const parsed = (run: { stdout: string }) => JSON.parse(run.stdout) as ComplianceReport;
const claims = (control: ControlResult | undefined) =>
  (control?.evidence ?? []).map((e) => e.claim).join('\n');

/** Runs a real `custos backup drill --record` into `log`: of a good backup, or a damaged one. */
async function drill(dir: string, log: string, damaged: boolean): Promise<string> {
  const keyFile = join(dir, 'backup.key');
  await writeFile(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const plain = join(dir, 'dump.sql');
  await writeFile(plain, 'select 1;\n'.repeat(1000));
  const sealed = join(dir, damaged ? 'damaged.cbk' : 'good.cbk');
  const encrypted = await custos(['backup', 'encrypt', plain, '-o', sealed, '--key-file', keyFile]);
  expect(encrypted.code, encrypted.stderr).toBe(0);
  if (damaged) {
    const bytes = await readFile(sealed);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] as number) ^ 1;
    await writeFile(sealed, bytes);
  }
  const run = await custos(['backup', 'drill', sealed, '--key-file', keyFile, '--record', log]);
  expect(run.code, run.stderr).toBe(damaged ? 1 : 0);
  return sealed;
}

// Each test runs the real CLI once to three times: seconds each on a busy machine.
describe('custos compliance report: a server set up to fail', { timeout: 60_000 }, () => {
  let server: DevServer;
  const token = `root-${randomBytes(8).toString('hex')}`;
  const canary = `compliance-canary-${randomBytes(12).toString('hex')}`;
  const env = () => ({ CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token });
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    server = await startDevServer(token);
    // A policy that lets its holders write anywhere, and one that is narrow.
    await api('POST', 'sys/policies/acl/ops-everything', {
      policy: 'path "*" {\n  capabilities = ["read", "update"]\n}\n',
    });
    await api('POST', 'sys/policies/acl/app-read', {
      policy: 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n',
    });
    await api('POST', 'secret/data/app/db', { data: { password: canary } });
    // A PHI secret with no rotation policy, and a PHI key on a transit mount of three segments.
    await api('POST', 'secret/metadata/app/db', { custom_metadata: { data_class: 'phi' } });
    await api('POST', 'sys/mounts/teams/care/transit', { type: 'transit' });
    await api('POST', 'teams/care/transit/keys/records', { type: 'ed25519' });
    await api('POST', 'teams/care/transit/keys/records/config', {
      custom_metadata: { data_class: 'PHI' },
    });
  }, 60_000);
  afterAll(async () => {
    await server.stop();
  });

  it('fails access control, audit and transmission, names why, and exits 1', async () => {
    const run = await custos(['compliance', 'report', '--format', 'json'], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as ComplianceReport;
    expect(report).toMatchObject({ framework: 'all', server: server.url });
    expect(Date.parse(report.generatedAt)).not.toBeNaN();
    expect(statusOf(report)).toEqual({
      '164.312(a)(1)': 'fail',
      '164.312(a)(2)(iv)': 'partial', // one unseal share
      '164.312(b)': 'fail',
      '164.312(c)(1)': 'partial',
      '164.312(d)': 'partial', // tokens live 768h by default
      '164.312(e)(1)': 'fail',
      'CC6.1': 'fail',
      'CC6.6': 'fail',
      'CC6.7': 'fail',
      'CC7.2': 'fail',
      'CC8.1': 'partial',
      'A1.3': 'partial', // no drill log given
    });
    const access = report.controls.find((c) => c.id === '164.312(a)(1)');
    expect(access?.evidence).toContainEqual({
      claim: 'policy "ops-everything" grants read, update on "*"',
      supports: false,
      recheck: 'custos policy read ops-everything',
    });
    expect(claims(access)).not.toContain('app-read');
    expect(claims(report.controls.find((c) => c.id === '164.312(b)'))).toContain(
      'no audit device is enabled',
    );
    expect(claims(report.controls.find((c) => c.id === '164.312(e)(1)'))).toContain(
      `plain http at ${server.url}`,
    );
    for (const control of report.controls) {
      expect(control.recheck).toMatch(
        /^custos compliance report --framework (hipaa|soc2) --control/,
      );
      for (const item of control.evidence) expect(item.recheck).toMatch(/^(custos|curl) /);
    }
    expect(run.stdout + run.stderr).not.toContain(canary);
  });

  it('groups evidence by data class: a PHI secret without rotation, a PHI key on any transit mount', async () => {
    const run = await custos(['compliance', 'report', '--format', 'json'], { env: env() });
    const report = JSON.parse(run.stdout) as ComplianceReport;
    const encryption = report.controls.find((c) => c.id === '164.312(a)(2)(iv)');
    expect(encryption?.evidence).toContainEqual({
      claim: 'PHI secret secret/app/db has no rotation policy',
      recheck: 'custos read sys/rotation/secret/app/db',
      dataClass: 'PHI',
    });
    // The key of a mount of several segments is judged (a signing key's age, too).
    expect(encryption?.evidence).toContainEqual({
      claim: 'PHI transit key teams/care/transit/records: version 1 is 0 days old (limit 365)',
      supports: true,
      recheck: 'custos read teams/care/transit/keys/records',
      dataClass: 'PHI',
    });
    expect(claims(report.controls.find((c) => c.id === 'CC8.1'))).toContain(
      'PHI secret secret/app/db has no rotation policy',
    );
    expect(report.dataClasses).toEqual([
      {
        dataClass: 'PHI',
        secrets: [{ path: 'secret/app/db', rotation: 'none' }],
        transitKeys: [
          { name: 'teams/care/transit/records', latestVersion: 1, ageDays: 0, limitDays: 365 },
        ],
      },
    ]);
    // The same secrets through the CLI, by class in any case.
    const listed = await custos(['kv', 'list', 'app', '--class', 'phi'], { env: env() });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim()).toBe('db');
    const refused = await custos(['kv', 'list', 'app', '--class', 'secret'], { env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('must be one of PHI, PII, credential, payment, internal');
  });

  it('fails recovery testing on a failed drill, and transmission on an expired certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-compliance-'));
    try {
      const log = join(dir, 'drills.jsonl');
      const sealed = await drill(dir, log, true);
      const recovery = await custos(
        ['compliance', 'report', '--control', 'A1.3', '--drill-log', log, '--format', 'json'],
        { env: env() },
      );
      expect(recovery.code, recovery.stderr).toBe(1);
      const [control] = (JSON.parse(recovery.stdout) as ComplianceReport).controls;
      expect(control?.status).toBe('fail');
      expect(control?.evidence).toContainEqual({
        claim: expect.stringMatching(
          new RegExp(`^backup ${sealed}: the latest drill failed 0 days ago \\(ERR_[A-Z_]+\\)$`),
        ),
        supports: false,
        recheck: `custos backup drill ${sealed} --record ${log}`,
      });
      // A line that is not a drill record stops the report (exit 2), naming file and line.
      await writeFile(join(dir, 'bad.jsonl'), '{"time":"x"}\n');
      const bad = await custos(
        ['compliance', 'report', '--control', 'A1.3', '--drill-log', join(dir, 'bad.jsonl')],
        { env: env() },
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('bad.jsonl:1 is not a `custos backup drill --record` line');

      const pki = createTestPki(dir);
      const expired = pki.issue({
        name: 'expired',
        notAfter: new Date(Date.now() - 3 * 86_400_000),
      });
      const soon = pki.issue({ name: 'soon', notAfter: new Date(Date.now() + 10 * 86_400_000) });
      const certs = await custos(
        [
          'compliance',
          'report',
          '--control',
          '164.312(e)(1)',
          '--cert',
          expired.certFile,
          '--cert',
          soon.certFile,
          '--format',
          'json',
        ],
        { env: env() },
      );
      const text = claims((JSON.parse(certs.stdout) as ComplianceReport).controls[0]);
      expect(text).toMatch(
        new RegExp(
          `certificate ${expired.certFile} \\(CN=[^)]+\\) has expired \\(days to expiry: -[34]\\)`,
        ),
      );
      expect(text).toMatch(
        new RegExp(
          `certificate ${soon.certFile} \\(CN=[^)]+\\) expires in (9|10) days \\(less than 30: renew it\\)`,
        ),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports one framework or one control, and refuses one that does not exist', async () => {
    const hipaa = await custos(
      ['compliance', 'report', '--framework', 'hipaa', '--format', 'json'],
      {
        env: env(),
      },
    );
    const ids = (JSON.parse(hipaa.stdout) as ComplianceReport).controls.map((c) => c.id);
    expect(ids).toEqual([
      '164.312(a)(1)',
      '164.312(a)(2)(iv)',
      '164.312(b)',
      '164.312(c)(1)',
      '164.312(d)',
      '164.312(e)(1)',
    ]);
    const one = await custos(
      ['compliance', 'report', '--framework', 'soc2', '--control', 'cc8.1', '--format', 'json'],
      { env: env() },
    );
    expect(one.code, one.stderr).toBe(0); // partial is not a failure
    expect((JSON.parse(one.stdout) as ComplianceReport).controls.map((c) => c.id)).toEqual([
      'CC8.1',
    ]);
    const none = await custos(['compliance', 'report', '--control', 'CC9.9'], { env: env() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no control CC9.9');
  });

  it('refuses a token without sudo with a clear error (exit 2), not a partial report', async () => {
    const created = await api('POST', 'auth/token/create', { policies: ['app-read'] });
    const limited = ((await created.json()) as { auth: { client_token: string } }).auth
      .client_token;
    const run = await custos(['compliance', 'report'], {
      env: { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: limited },
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/permission denied/i);
    expect(run.stderr).not.toContain(limited);
  });

  it('counts a scan report with findings against change management', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-compliance-'));
    try {
      const scanReport = join(dir, 'scan.json');
      await writeFile(scanReport, JSON.stringify({ findings: [{ rule: 'x' }, { rule: 'y' }] }));
      const run = await custos(
        [
          'compliance',
          'report',
          '--control',
          'CC8.1',
          '--scan-report',
          scanReport,
          '--format',
          'json',
        ],
        { env: env() },
      );
      expect(run.code).toBe(1);
      const [control] = (JSON.parse(run.stdout) as ComplianceReport).controls;
      expect(control?.status).toBe('fail');
      expect(claims(control)).toContain(`${scanReport}: 2 secrets found in code`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says what to install when --format pdf has no Chromium', async () => {
    const run = await custos(['compliance', 'report', '--format', 'pdf', '--out', '/tmp/x.pdf'], {
      env: { ...env(), CUSTOS_CHROMIUM: '/nonexistent/chromium' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('headless Chromium');
    const noOut = await custos(['compliance', 'report', '--format', 'pdf'], { env: env() });
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--format pdf needs --out');
  });
});

describe.runIf(requireTool('openssl'))(
  'custos compliance report: a server set up to pass',
  { timeout: 60_000 },
  () => {
    let dir: string;
    let server: RunningServer;
    let caFile: string;
    let rootToken: string;
    let auditFile: string;
    let url: string;

    const api = (method: string, path: string, body?: unknown, token?: string) =>
      new Promise<{ status: number; body: Record<string, unknown> | null }>((resolve, reject) => {
        const req = request(
          `${url}/v1/${path}`,
          {
            method,
            ca: [caFileContents],
            headers: {
              'content-type': 'application/json',
              ...(token === undefined ? {} : { 'x-vault-token': token }),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk) => {
              text += chunk;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) }),
            );
          },
        );
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    let caFileContents: Buffer;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'custos-compliance-'));
      const pki = createTestPki(dir);
      caFile = pki.caFile;
      caFileContents = await readFile(caFile);
      const { certFile, keyFile } = pki.issue({ name: 'server' });
      auditFile = join(dir, 'audit.log');
      server = await startServer({
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        tls: { cert: await readFile(certFile), key: await readFile(keyFile) },
        audit: [{ type: 'file', path: auditFile }],
      });
      url = server.url.replace('127.0.0.1', 'localhost');
      const init = await api('POST', 'sys/init', { secret_shares: 3, secret_threshold: 2 });
      const keys = (init.body as { keys: string[]; root_token: string }).keys;
      rootToken = (init.body as { root_token: string }).root_token;
      for (const key of keys.slice(0, 2)) await api('POST', 'sys/unseal', { key });
      await api('POST', 'sys/auth/token/tune', { default_lease_ttl: '1h' }, rootToken);
      await api(
        'POST',
        'sys/policies/acl/app-read',
        {
          policy: 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n',
        },
        rootToken,
      );
      await api('POST', 'transit/keys/payments', {}, rootToken);
      await api('POST', 'secret/data/app/api', { data: { value: 'x'.repeat(8) } }, rootToken);
      await api(
        'POST',
        'sys/rotation/secret/app/api',
        { rotator: 'random', schedule: '90d' },
        rootToken,
      );
      await api(
        'POST',
        'secret/metadata/app/api',
        { custom_metadata: { data_class: 'credential' } },
        rootToken,
      );
      await writeFile(join(dir, 'scan.json'), JSON.stringify({ findings: [] }));
      await drill(dir, join(dir, 'drills.jsonl'), false);
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('passes every control, each claim with its re-check, and exits 0', async () => {
      const run = await custos(
        [
          'compliance',
          'report',
          '--ca',
          caFile,
          '--audit-file',
          auditFile,
          '--scan-report',
          join(dir, 'scan.json'),
          '--drill-log',
          join(dir, 'drills.jsonl'),
          '--format',
          'json',
        ],
        { env: { CUSTOS_ADDR: url, CUSTOS_TOKEN: rootToken, NODE_EXTRA_CA_CERTS: caFile } },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(claims(parsed(run).controls.find((c) => c.id === 'A1.3'))).toMatch(
        /good\.cbk: the latest drill passed 0 days ago \(decrypted and authenticated\)/,
      );
      expect(claims(parsed(run).controls.find((c) => c.id === '164.312(e)(1)'))).toMatch(
        /the server's server certificate expires in (89|90) days/,
      );
      const report = JSON.parse(run.stdout) as ComplianceReport;
      expect(
        report.controls.filter((c) => c.status !== 'pass').map((c) => [c.id, claims(c)]),
      ).toEqual([]);
      const audit = report.controls.find((c) => c.id === '164.312(b)');
      expect(claims(audit)).toMatch(
        /audit\.log: hash chain and checkpoint signatures verified over \d+ entries/,
      );
      expect(claims(report.controls.find((c) => c.id === '164.312(a)(2)(iv)'))).toContain(
        'unsealing takes 2 of 3 key shares',
      );
      expect(claims(report.controls.find((c) => c.id === 'CC6.6'))).toContain(
        'sends Strict-Transport-Security',
      );
    });

    it('leaves encryption and change management partial for a PHI secret without rotation, naming it', async () => {
      const passing = await custos(
        ['compliance', 'report', '--control', 'CC8.1', '--ca', caFile, '--format', 'json'],
        { env: { CUSTOS_ADDR: url, CUSTOS_TOKEN: rootToken, NODE_EXTRA_CA_CERTS: caFile } },
      );
      expect(passing.code, passing.stderr).toBe(0);
      const [before] = (JSON.parse(passing.stdout) as ComplianceReport).controls;
      expect(before?.evidence).toContainEqual({
        claim: 'credential secret secret/app/api rotates on schedule',
        supports: true,
        recheck: 'custos rotation status',
        dataClass: 'credential',
      });
      await api('POST', 'secret/data/care/chart', { data: { value: 'y'.repeat(8) } }, rootToken);
      await api(
        'POST',
        'secret/metadata/care/chart',
        { custom_metadata: { data_class: 'PHI' } },
        rootToken,
      );
      try {
        const run = await custos(
          ['compliance', 'report', '--framework', 'all', '--ca', caFile, '--format', 'json'],
          { env: { CUSTOS_ADDR: url, CUSTOS_TOKEN: rootToken, NODE_EXTRA_CA_CERTS: caFile } },
        );
        expect(run.code, run.stderr).toBe(0); // partial is not a failure
        const report = JSON.parse(run.stdout) as ComplianceReport;
        for (const id of ['164.312(a)(2)(iv)', 'CC6.1', 'CC8.1']) {
          const control = report.controls.find((c) => c.id === id);
          expect(control?.status, id).toBe('partial');
          expect(claims(control)).toContain('PHI secret secret/care/chart has no rotation policy');
        }
      } finally {
        await api('DELETE', 'secret/metadata/care/chart', undefined, rootToken);
      }
    });

    it('fails integrity when a line of the audit file was edited', async () => {
      const edited = join(dir, 'edited.log');
      const lines = (await readFile(auditFile, 'utf8')).split('\n');
      const at = lines.findIndex((line) => line.includes('"type":"request"'));
      lines[at] = (lines[at] as string).replace('"type":"request"', '"type":"request","x":1');
      await writeFile(edited, lines.join('\n'));
      const run = await custos(
        [
          'compliance',
          'report',
          '--control',
          '164.312(c)(1)',
          '--audit-file',
          edited,
          '--format',
          'json',
          '--ca',
          caFile,
        ],
        { env: { CUSTOS_ADDR: url, CUSTOS_TOKEN: rootToken, NODE_EXTRA_CA_CERTS: caFile } },
      );
      expect(run.code).toBe(1);
      const [control] = (JSON.parse(run.stdout) as ComplianceReport).controls;
      expect(control?.status).toBe('fail');
      expect(claims(control)).toContain('edited.log: the chain does not verify');
    });
  },
);

describe.runIf(requireTool('chromium'))('the PDF report', () => {
  it('is printed by headless Chromium', { timeout: 120_000 }, async () => {
    const server = await startDevServer('root-pdf');
    const dir = await mkdtemp(join(tmpdir(), 'custos-compliance-'));
    try {
      const out = join(dir, 'report.pdf');
      const run = await custos(['compliance', 'report', '--format', 'pdf', '--out', out], {
        env: { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 'root-pdf' },
      });
      expect(run.code, run.stderr).toBe(1); // the dev server fails controls
      const pdf = await readFile(out);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.length).toBeGreaterThan(10_000);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the HTML report', () => {
  it('escapes what it shows and carries no script', () => {
    const html = renderHtml({
      framework: 'hipaa',
      generatedAt: '2026-12-04T00:00:00.000Z',
      server: 'https://vault.example.com',
      controls: [
        {
          id: '164.312(a)(1)',
          framework: 'hipaa',
          title: 'Access control',
          status: 'fail',
          evidence: [
            {
              claim: 'policy "<script>alert(1)</script>" grants update on "*"',
              supports: false,
              recheck: 'custos policy read x',
            },
          ],
          recheck: "custos compliance report --control '164.312(a)(1)'",
        },
      ],
    });
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('<span class="status fail">Fail</span>');
  });

  it('shows the data by class and the columns without one, escaped', () => {
    const column = {
      state: 'rotation-incomplete' as const,
      plaintext: 0,
      failing: 0,
      oldVersion: 17,
      takenAt: '2026-12-03T10:00:00.000Z',
    };
    const html = renderHtml({
      framework: 'all',
      generatedAt: '2026-12-04T00:00:00.000Z',
      server: 'https://vault.example.com',
      controls: [],
      dataClasses: [
        {
          dataClass: 'PHI',
          secrets: [{ path: 'secret/<b>ward</b>', rotation: 'overdue' }],
          transitKeys: [{ name: 'records', latestVersion: 3, ageDays: 400, limitDays: 365 }],
          columns: [{ ...column, column: 'patients.diagnosis' }],
        },
        { dataClass: 'PII', secrets: [{ path: 'secret/crm', rotation: 'none' }], transitKeys: [] },
      ],
      unclassifiedColumns: [
        { ...column, column: 'visits.note', state: 'unprotected', plaintext: 5 },
      ],
    });
    expect(html).not.toContain('<b>');
    expect(html).toContain('<h2><span>Data class PHI</span></h2>');
    expect(html).toContain('<tr><td>secret/&lt;b&gt;ward&lt;/b&gt;</td><td>overdue</td></tr>');
    expect(html).toContain(
      '<tr><td>records</td><td class="n">3</td><td class="n">400</td><td class="n">365</td></tr>',
    );
    expect(html).toContain(
      '<tr><td>patients.diagnosis</td><td>rotation-incomplete</td><td class="n">0</td><td class="n">0</td><td class="n">17</td><td>2026-12-03T10:00:00.000Z</td></tr>',
    );
    expect(html).toContain('<h2><span>Data class PII</span></h2>');
    expect(html).toContain('<tr><td>secret/crm</td><td>none</td></tr>');
    // PII has no transit keys and no columns: no empty tables for them.
    const pii = html.slice(html.indexOf('Data class PII'));
    expect(pii.slice(0, pii.indexOf('</section>')).match(/<table>/g)).toHaveLength(1);
    expect(html).toContain('<h2><span>Columns without a data class</span></h2>');
    expect(html).toContain(
      '<tr><td>visits.note</td><td>unprotected</td><td class="n">5</td><td class="n">0</td><td class="n">17</td><td>2026-12-03T10:00:00.000Z</td></tr>',
    );
  });

  it('adds no data section to a report without classified data', () => {
    const html = renderHtml({
      framework: 'soc2',
      generatedAt: '2026-12-04T00:00:00.000Z',
      server: 'https://vault.example.com',
      controls: [],
    });
    expect(html).not.toContain('Data class');
    expect(html).not.toContain('<table>');
  });
});

describe('the text report', () => {
  it('lists the data by class and the columns without one after the controls', () => {
    const text = renderText({
      framework: 'hipaa',
      generatedAt: '2026-12-04T00:00:00.000Z',
      server: 'https://vault.example.com',
      controls: [
        {
          id: '164.312(b)',
          framework: 'hipaa',
          title: 'Audit controls',
          status: 'pass',
          evidence: [
            { claim: 'audit device file/ on', supports: true, recheck: 'custos audit list' },
          ],
          recheck: "custos compliance report --control '164.312(b)'",
        },
      ],
      dataClasses: [
        {
          dataClass: 'PHI',
          secrets: [{ path: 'secret/ward', rotation: 'on-schedule' }],
          transitKeys: [{ name: 'records', latestVersion: 1, ageDays: 1, limitDays: 90 }],
          columns: [
            {
              column: 'patients.diagnosis',
              state: 'encrypted',
              plaintext: 0,
              failing: 1,
              oldVersion: 2,
              takenAt: '2026-12-03T10:00:00.000Z',
            },
          ],
        },
      ],
      unclassifiedColumns: [
        {
          column: 'visits.note',
          state: 'unprotected',
          plaintext: 1,
          failing: 0,
          oldVersion: 0,
          takenAt: '2026-12-03T10:00:00.000Z',
        },
      ],
    });
    expect(text.split('\n')).toEqual([
      'PASS     HIPAA §164.312(b) Audit controls',
      '  ✓ audit device file/ on',
      '      re-check: custos audit list',
      'DATA CLASS PHI',
      '  secret secret/ward: rotation on-schedule',
      '  transit key records: version 1, 1 day old (limit 90)',
      '  column patients.diagnosis: encrypted (0 plaintext rows, 1 failing row, 2 rows under an old key; status taken 2026-12-03T10:00:00.000Z)',
      'COLUMNS WITHOUT A DATA CLASS',
      '  column visits.note: unprotected (1 plaintext row, 0 failing rows, 0 rows under an old key; status taken 2026-12-03T10:00:00.000Z)',
    ]);
  });
});
