import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, type TestPki } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

describe.runIf(requireTool('openssl'))('custos cert check and custos tls check', () => {
  let dir: string;
  let pki: TestPki;
  let good: { certFile: string; keyFile: string };
  let expired: { certFile: string; keyFile: string };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-cli-tls-check-'));
    pki = createTestPki(dir);
    good = pki.issue({ name: 'good' });
    expired = pki.issue({
      name: 'expired',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('cert check: exit 0 for a good pair, 1 with the failed check named, 2 for a usage error', async () => {
    const ok = await custos([
      'cert',
      'check',
      good.certFile,
      '--key',
      good.keyFile,
      '--ca',
      pki.caFile,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok {3}key-match/);
    expect(ok.stdout).toMatch(/all checks passed\n$/);

    const bad = await custos([
      'cert',
      'check',
      expired.certFile,
      '--ca',
      pki.caFile,
      '--format',
      'json',
    ]);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks).toContainEqual(
      expect.objectContaining({ check: 'validity', status: 'fail' }),
    );

    const mismatch = await custos([
      'cert',
      'check',
      good.certFile,
      '--key',
      expired.keyFile,
      '--ca',
      pki.caFile,
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toMatch(/FAIL key-match/);

    expect((await custos(['cert', 'check', good.certFile, '--warn-days', 'soon'])).code).toBe(2);
    const missing = await custos(['cert', 'check', join(dir, 'nope.pem')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ERR_INVALID_ARGUMENT');
  });

  it('tls check: exit 0 for a good endpoint, 1 when --warn-days is not met, 2 for a bad endpoint', async () => {
    const server = createServer(
      { cert: readFileSync(good.certFile), key: readFileSync(good.keyFile) },
      (_req, res) => {
        res.setHeader('strict-transport-security', 'max-age=63072000; includeSubDomains');
        res.end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ok = await custos(['tls', 'check', endpoint, '--ca', pki.caFile]);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/ok {3}protocols +offers TLSv1\.2, TLSv1\.3/);
      expect(ok.stdout).toMatch(/ok {3}hsts +Strict-Transport-Security: max-age=63072000/);

      const soon = await custos([
        'tls',
        'check',
        endpoint,
        '--ca',
        pki.caFile,
        '--warn-days',
        '3650',
        '--format',
        'json',
      ]);
      expect(soon.code).toBe(1);
      expect(JSON.parse(soon.stdout).checks).toContainEqual(
        expect.objectContaining({ check: 'expiry', status: 'fail' }),
      );
      // Without --ca the test CA is not trusted.
      expect((await custos(['tls', 'check', endpoint])).stdout).toMatch(/FAIL chain/);
      expect((await custos(['tls', 'check', 'no-port'])).code).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
