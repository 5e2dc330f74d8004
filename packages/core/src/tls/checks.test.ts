import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server, type TlsOptions } from 'node:tls';
import { createTestPki, type TestCertificateSpec, type TestPki } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckResult, checkCertificateFile, checkTlsEndpoint } from './index.js';

const DAY = 86_400_000;

/** The status of each named check (the last one of a name wins: intermediates come after). */
const statuses = (checks: readonly CheckResult[]) =>
  Object.fromEntries(checks.map((c) => [c.check, c.status]));

describe.runIf(requireTool('openssl'))('certificate and endpoint checks', () => {
  let dir: string;
  let pki: TestPki;
  const servers: Server[] = [];
  const files: Record<string, { certFile: string; keyFile: string }> = {};
  const SPECS: TestCertificateSpec[] = [
    { name: 'good' },
    {
      name: 'expired',
      notBefore: new Date(Date.now() - 60 * DAY),
      notAfter: new Date(Date.now() - DAY),
    },
    {
      name: 'future',
      notBefore: new Date(Date.now() + 5 * DAY),
      notAfter: new Date(Date.now() + 60 * DAY),
    },
    { name: 'self', selfSigned: true },
    { name: 'wronghost', hosts: ['other.test'] },
    { name: 'rsa1024', key: 'rsa1024' },
    { name: 'sha1', digest: 'sha1' },
  ];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-tls-checks-'));
    pki = createTestPki(dir);
    for (const spec of SPECS) files[spec.name] = pki.issue(spec);
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A TLS server (HTTPS when `hsts` is given) presenting `name`'s certificate. */
  async function serve(
    name: string,
    options: TlsOptions & { http?: { hsts?: string } } = {},
  ): Promise<number> {
    const { http, ...tls } = options;
    const base = {
      cert: readFileSync(files[name]?.certFile as string),
      key: readFileSync(files[name]?.keyFile as string),
      // Test servers may serve what the checks must catch: weak keys, SHA-1, old versions.
      ciphers: 'DEFAULT@SECLEVEL=0',
      ...tls,
    };
    const server =
      http === undefined
        ? createTlsServer(base, (socket) => socket.end())
        : createHttpsServer(base, (_req, res) => {
            if (http.hsts !== undefined) res.setHeader('strict-transport-security', http.hsts);
            res.end('ok');
          });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const check = (port: number, options: { servername?: string; warnDays?: number } = {}) =>
    checkTlsEndpoint({ host: '127.0.0.1', port, caFile: pki.caFile, timeoutMs: 5000, ...options });

  describe('checkTlsEndpoint', () => {
    it('passes a good HTTPS endpoint with HSTS, and reports what it offers', async () => {
      const port = await serve('good', { http: { hsts: 'max-age=31536000' } });
      const report = await check(port);
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.protocols).toEqual({
        TLSv1: false,
        'TLSv1.1': false,
        'TLSv1.2': true,
        'TLSv1.3': true,
      });
      expect(report.negotiated).toEqual({
        protocol: 'TLSv1.3',
        cipher: expect.stringMatching(/^TLS_/),
      });
      expect(statuses(report.checks)).toMatchObject({
        protocols: 'pass',
        chain: 'pass',
        hostname: 'pass',
        validity: 'pass',
        expiry: 'pass',
        'key-size': 'pass',
        signature: 'pass',
        'ocsp-stapling': 'info',
        hsts: 'pass',
      });
      expect(report.certificate?.daysToExpiry).toBeGreaterThan(80);
      // Closer to expiry than --warn-days: a failure.
      const soon = await check(port, { warnDays: 120 });
      expect(soon.ok).toBe(false);
      expect(statuses(soon.checks).expiry).toBe('fail');
    });

    it('fails HTTPS without HSTS, and only reports it for a server that does not speak HTTP', async () => {
      const https = await check(await serve('good', { http: {} }));
      expect(statuses(https.checks).hsts).toBe('fail');
      expect(https.ok).toBe(false);
      const plain = await check(await serve('good'));
      expect(statuses(plain.checks).hsts).toBe('info');
      expect(plain.ok).toBe(true);
    });

    it.each([
      ['expired', { validity: 'fail', chain: 'fail' }],
      ['future', { validity: 'fail', chain: 'fail' }],
      ['self', { chain: 'fail' }],
      ['wronghost', { hostname: 'fail', chain: 'pass' }],
      ['rsa1024', { 'key-size': 'fail' }],
      ['sha1', { signature: 'fail' }],
    ])('fails the %s certificate', async (name, expected) => {
      const report = await check(await serve(name));
      expect(report.ok).toBe(false);
      expect(statuses(report.checks)).toMatchObject(expected);
    });

    it('matches the certificate against --servername', async () => {
      const port = await serve('wronghost');
      const report = await check(port, { servername: 'other.test' });
      expect(statuses(report.checks)).toMatchObject({ hostname: 'pass', chain: 'pass' });
      expect(report.ok).toBe(true);
    });

    it('fails a server that offers TLS 1.0 and 1.1', async () => {
      const port = await serve('good', { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      const report = await check(port);
      expect(report.protocols).toEqual({
        TLSv1: true,
        'TLSv1.1': true,
        'TLSv1.2': false,
        'TLSv1.3': false,
      });
      expect(report.checks[0]).toEqual({
        check: 'protocols',
        status: 'fail',
        detail: 'offers TLSv1 and TLSv1.1, which are broken (RFC 8996)',
      });
      expect(report.negotiated?.protocol).toBe('TLSv1.1');
      expect(report.ok).toBe(false);
    });

    it('fails when nothing answers', async () => {
      const port = await serve('good');
      const closed = servers.pop() as Server;
      await new Promise((resolve) => closed.close(resolve));
      const report = await check(port);
      expect(report.ok).toBe(false);
      expect(report.checks.at(-1)).toMatchObject({
        check: 'connect',
        status: 'fail',
        detail: expect.stringContaining('ECONNREFUSED'),
      });
    });
  });

  describe('checkCertificateFile', () => {
    const checkFile = (
      name: string,
      extra: { keyFile?: string; warnDays?: number; ca?: false } = {},
    ) =>
      checkCertificateFile({
        certFile: files[name]?.certFile as string,
        ...(extra.ca === false ? {} : { caFile: pki.caFile }),
        ...(extra.keyFile === undefined ? {} : { keyFile: extra.keyFile }),
        ...(extra.warnDays === undefined ? {} : { warnDays: extra.warnDays }),
      });

    it('passes a good certificate with its key and CA', () => {
      const report = checkFile('good', { keyFile: files.good?.keyFile as string });
      expect(report.ok).toBe(true);
      expect(statuses(report.checks)).toEqual({
        validity: 'pass',
        expiry: 'pass',
        'key-size': 'pass',
        signature: 'pass',
        chain: 'pass',
        'key-match': 'pass',
      });
      expect(report.certificate).toMatchObject({
        keyType: 'ec',
        keyBits: 256,
        signatureAlgorithm: 'ecdsa-with-SHA256',
        subjectAltName: 'IP Address:127.0.0.1, DNS:localhost',
      });
    });

    it.each([
      ['expired', { validity: 'fail' }],
      ['future', { validity: 'fail' }],
      ['self', { chain: 'fail' }],
      ['rsa1024', { 'key-size': 'fail' }],
      ['sha1', { signature: 'fail' }],
    ])('fails the %s certificate', (name, expected) => {
      const report = checkFile(name);
      expect(report.ok).toBe(false);
      expect(statuses(report.checks)).toMatchObject(expected);
    });

    it('reports the SHA-1 and RSA details it judged', () => {
      expect(checkFile('sha1').certificate.signatureAlgorithm).toBe('ecdsa-with-SHA1');
      expect(checkFile('rsa1024').certificate).toMatchObject({ keyType: 'rsa', keyBits: 1024 });
    });

    it('fails a key that does not match, an expiry under --warn-days, and a CA it does not trust', () => {
      expect(
        statuses(checkFile('good', { keyFile: files.self?.keyFile as string }).checks)['key-match'],
      ).toBe('fail');
      expect(statuses(checkFile('good', { warnDays: 365 }).checks).expiry).toBe('fail');
      // Not in Node's bundled roots.
      expect(statuses(checkFile('good', { ca: false }).checks).chain).toBe('fail');
    });

    it('follows intermediates in the file to the CA', () => {
      // A bundle of leaf + CA in one file: the CA is the intermediate here, still trusted by --ca.
      const bundle = join(dir, 'bundle.pem');
      writeFileSync(
        bundle,
        Buffer.concat([readFileSync(files.good?.certFile as string), readFileSync(pki.caFile)]),
      );
      const report = checkCertificateFile({ certFile: bundle, caFile: pki.caFile });
      expect(report.ok).toBe(true);
    });

    it('refuses a file it cannot read, naming it', () => {
      const missing = join(dir, 'missing.pem');
      expect(() => checkCertificateFile({ certFile: missing })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: `cannot read the certificate ${missing}: ENOENT`,
        }),
      );
      expect(() => checkCertificateFile({ certFile: files.good?.keyFile as string })).toThrow(
        /no readable certificate/,
      );
    });
  });
});
