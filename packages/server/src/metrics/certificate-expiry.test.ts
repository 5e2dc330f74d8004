import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, type TestPki } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../server.js';
import { createServerMetrics } from './server-metrics.js';

const DAY = 86_400_000;
const GAUGE = /^custos_tls_certificate_expiry_days\{certificate="server"\} (\S+)$/m;

describe.runIf(requireTool('openssl'))('custos_tls_certificate_expiry_days', () => {
  let dir: string;
  let pki: TestPki;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cert-metrics-'));
    pki = createTestPki(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A certificate expiring at `notAfter` (whole seconds), its PEM and its key. */
  async function certificate(name: string, notAfter: Date) {
    const { certFile, keyFile } = pki.issue({ name, notAfter });
    return { cert: await readFile(certFile), key: await readFile(keyFile) };
  }

  it("is the served certificate's days to expiry by the server's clock", async () => {
    const notAfter = new Date(Math.floor((Date.now() + 40 * DAY) / 1000) * 1000);
    const tls = await certificate('served', notAfter);
    const server = await startServer({
      dev: { rootTokenId: 'root' },
      port: 0,
      logLevel: 'silent',
      tls,
      clock: () => notAfter.getTime() - 10 * DAY,
    });
    try {
      const text = await server.context.metrics.registry.metrics();
      expect(Number(GAUGE.exec(text)?.[1])).toBe(10);
    } finally {
      await server.close();
    }
  });

  it('follows a reloaded certificate, goes negative once expired, and is absent without TLS', async () => {
    const first = new Date(Math.floor((Date.now() + 5 * DAY) / 1000) * 1000);
    const second = new Date(first.getTime() + 60 * DAY);
    const now = first.getTime() + DAY / 2;
    const metrics = createServerMetrics({ clock: () => now });
    expect(await metrics.registry.metrics()).not.toMatch(/^custos_tls_certificate_expiry_days\{/m);
    metrics.setCertificate((await certificate('first', first)).cert);
    expect(Number(GAUGE.exec(await metrics.registry.metrics())?.[1])).toBe(-0.5);
    metrics.setCertificate((await certificate('second', second)).cert);
    expect(Number(GAUGE.exec(await metrics.registry.metrics())?.[1])).toBe(59.5);
    // Something that is not a certificate: no series rather than a wrong one.
    metrics.setCertificate('not a certificate');
    expect(await metrics.registry.metrics()).not.toMatch(/^custos_tls_certificate_expiry_days\{/m);
  });

  it("exports the client CA bundle's certificates beside the served one, and lists them all", async () => {
    const served = new Date(Math.floor((Date.now() + 40 * DAY) / 1000) * 1000);
    const tls = await certificate('served-with-ca', served);
    const ca = await readFile(pki.caFile);
    const second = (await certificate('second-ca', new Date(served.getTime() + DAY))).cert;
    const server = await startServer({
      dev: { rootTokenId: 'root' },
      port: 0,
      logLevel: 'silent',
      tls: { ...tls, ca: Buffer.concat([ca, Buffer.from('\n'), second]) },
    });
    try {
      const text = await server.context.metrics.registry.metrics();
      expect(text).toMatch(/^custos_tls_certificate_expiry_days\{certificate="client-ca"\} \S+$/m);
      expect(text).toMatch(
        /^custos_tls_certificate_expiry_days\{certificate="client-ca-2"\} \S+$/m,
      );
      const listed = server.context.metrics.certificates();
      expect(listed.map((c) => c.name)).toEqual(['server', 'client-ca', 'client-ca-2']);
      expect(listed[1]?.subject).toContain('custos test CA');
      expect(Math.floor(listed[0]?.daysLeft ?? 0)).toBeGreaterThanOrEqual(39);
      expect(listed[2]?.notAfter).toBe(served.getTime() + DAY);
    } finally {
      await server.close();
    }
  });
});
