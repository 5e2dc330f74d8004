import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServerClient } from '@custos/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { type ComplianceReport, gatherEvidence, judgeControls } from './index.js';

const withoutTime = (report: ComplianceReport) => ({ ...report, generatedAt: 'removed' });

describe('GET sys/compliance/report', { timeout: 60_000 }, () => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  const canary = `compliance-route-canary-${randomBytes(12).toString('hex')}`;
  /** What the report reads, each with the right it needs (docs/server-api.md). */
  const evidenceRules = {
    'sys/compliance/report': ['read', 'sudo'],
    'sys/seal-status': ['read'],
    'sys/key-status': ['read'],
    'sys/auth/token/tune': ['read', 'sudo'],
    'sys/auth': ['read', 'sudo'],
    'sys/audit': ['read', 'sudo'],
    'sys/audit/checkpoints': ['read', 'sudo'],
    'sys/rotation-status': ['read'],
    // A list is judged on the path with a trailing slash (`sys/policies/acl/`), as in Vault.
    'sys/policies/acl/*': ['read', 'list', 'sudo'],
    'sys/mounts': ['read'],
    'sys/metrics': ['read'],
    'transit/keys/*': ['read', 'list'],
    // Classified secrets: each KV v2 mount's folders listed with `?data_class=`.
    'secret/metadata/*': ['list'],
  } as const;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-compliance-route-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer('sqlite', {
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    expect(
      (await s.request('POST', 'secret/data/app/db', { body: { data: { password: canary } } }))
        .status,
    ).toBe(200);
    expect((await s.request('POST', 'transit/keys/orders', {})).status).toBeLessThan(300);
    expect((await s.policy('compliance-reader', evidenceRules)).status).toBe(204);
    expect((await s.policy('ops-everything', { '*': ['read', 'update'] })).status).toBe(204);
    expect(
      (await s.policy('report-only', { 'sys/compliance/report': ['read', 'sudo'] })).status,
    ).toBe(204);
    expect((await s.policy('no-sudo', { 'sys/compliance/*': ['read', 'list'] })).status).toBe(204);
  });
  afterAll(async () => {
    await s?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the JSON `custos compliance report --format json` prints, from the same code', async () => {
    const answer = await s.request('GET', 'sys/compliance/report');
    expect(answer.status, answer.text).toBe(200);
    const report = answer.body.data as ComplianceReport;
    // What the CLI computes over HTTP with the same token, now.
    const client = createServerClient({
      address: s.url,
      auth: { token: s.rootToken },
      allowInsecureHttp: true,
    });
    const now = new Date();
    const cli = judgeControls(await gatherEvidence(client, { auditFiles: [], now }), 'all', now);
    expect(withoutTime(report)).toEqual(withoutTime(cli));
    expect(Date.parse(report.generatedAt)).not.toBeNaN();
    expect(report.server).toBe(s.url);
    expect(report.controls.map((c) => c.id)).toEqual([
      '164.312(a)(1)',
      '164.312(a)(2)(iv)',
      '164.312(b)',
      '164.312(c)(1)',
      '164.312(d)',
      '164.312(e)(1)',
      'CC6.1',
      'CC6.6',
      'CC6.7',
      'CC7.2',
      'CC8.1',
      'A1.3',
    ]);
    // No drill log is read here: recovery testing stays partial.
    expect(report.controls.find((c) => c.id === 'A1.3')?.status).toBe('partial');
    // The broad policy is named; plain http fails transmission; no audit file was read here.
    const byId = new Map(report.controls.map((c) => [c.id, c]));
    expect(byId.get('164.312(a)(1)')).toMatchObject({ status: 'fail' });
    expect(byId.get('164.312(a)(1)')?.evidence).toContainEqual({
      claim: 'policy "ops-everything" grants read, update on "*"',
      supports: false,
      recheck: 'custos policy read ops-everything',
    });
    expect(byId.get('164.312(e)(1)')?.status).toBe('fail');
    expect(byId.get('164.312(b)')?.status).toBe('partial');
    expect(JSON.stringify(byId.get('164.312(a)(2)(iv)')?.evidence)).toContain(
      'transit key transit/orders',
    );
    expect(answer.text).not.toContain(canary);
  });

  it('takes a framework and a control; anything else is a 400', async () => {
    const hipaa = await s.request('GET', 'sys/compliance/report?framework=hipaa');
    expect(hipaa.status).toBe(200);
    expect(new Set((hipaa.body.data as ComplianceReport).controls.map((c) => c.framework))).toEqual(
      new Set(['hipaa']),
    );
    const one = await s.request('GET', 'sys/compliance/report?framework=soc2&control=cc6.1');
    expect(one.status).toBe(200);
    expect((one.body.data as ComplianceReport).controls.map((c) => c.id)).toEqual(['CC6.1']);
    for (const query of [
      'framework=pci',
      'framework=HIPAA',
      'framework=',
      'framework=hipaa&control=CC6.1',
      'control=nope',
    ]) {
      const refused = await s.request('GET', `sys/compliance/report?${query}`);
      expect(refused.status, query).toBe(400);
      expect(refused.body.errors?.[0], query).toMatch(/'framework'|'control'/);
    }
    // A value asked for never comes back, in the answer or the audit log.
    const planted = `CANARY-${randomBytes(8).toString('hex')}`;
    for (const query of [`control=${planted}`, `framework=${planted}`]) {
      const refused = await s.request('GET', `sys/compliance/report?${query}`);
      expect(refused.status).toBe(400);
      expect(refused.text).not.toContain(planted);
    }
    expect(await readFile(auditFile, 'utf8')).not.toContain(planted);
  });

  it('needs sudo on the route and the rights of every read it makes', async () => {
    expect((await s.request('GET', 'sys/compliance/report', { token: null })).status).toBe(403);
    const noSudo = await s.token({ policies: ['no-sudo'] });
    for (const path of [
      'sys/compliance/report',
      'sys/compliance/%72eport',
      'sys/compliance/report?framework=hipaa',
    ])
      expect((await s.request('GET', path, { token: noSudo })).status, path).toBe(403);
    // Sudo on the route alone: the first read it may not make refuses the whole report.
    const routeOnly = await s.token({ policies: ['report-only'] });
    const refused = await s.request('GET', 'sys/compliance/report', { token: routeOnly });
    expect(refused.status).toBe(403);
    // The rights docs/server-api.md lists are enough, and give the root token's report.
    const reader = await s.token({ policies: ['compliance-reader'] });
    const allowed = await s.request('GET', 'sys/compliance/report', { token: reader });
    expect(allowed.status, allowed.text).toBe(200);
    const root = await s.request('GET', 'sys/compliance/report');
    expect(withoutTime(allowed.body.data)).toEqual(withoutTime(root.body.data));
  });

  it('each read it makes is audited as the caller’s own request; no value is written', async () => {
    const reader = await s.token({ policies: ['compliance-reader'] });
    const count = async (path: string) =>
      (await readFile(auditFile, 'utf8'))
        .split('\n')
        .filter((line) => line.includes('"type":"request"') && line.includes(`"path":"${path}"`))
        .length;
    const before = await count('sys/policies/acl');
    const beforeReport = await count('sys/compliance/report');
    expect((await s.request('GET', 'sys/compliance/report', { token: reader })).status).toBe(200);
    expect(await count('sys/compliance/report')).toBe(beforeReport + 1);
    expect(await count('sys/policies/acl')).toBe(before + 1);
    expect(await readFile(auditFile, 'utf8')).not.toContain(canary);
  });
});
