import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadTlsOnSighup, tlsServerOptions, tlsSettingsFromEnv } from './index.js';

describe.runIf(requireTool('openssl'))('tlsServerOptions', () => {
  let dir: string;
  let pki: TestPki;
  let good: { certFile: string; keyFile: string };
  let other: { certFile: string; keyFile: string };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-tls-options-'));
    pki = createTestPki(dir);
    good = pki.issue({ name: 'good' });
    other = pki.issue({ name: 'other', hosts: ['127.0.0.1', 'other.test'] });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return { code: (err as { code?: string }).code, message: (err as Error).message };
    }
    return undefined;
  };

  it('reads the settings from the environment and checks the pair', () => {
    const settings = tlsSettingsFromEnv({
      SSL_CERT_PATH: good.certFile,
      SSL_KEY_PATH: good.keyFile,
      SSL_CA_PATH: pki.caFile,
      TLS_MIN_VERSION: 'TLSv1.3',
      TLS_CIPHERS: 'TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384',
    });
    const options = tlsServerOptions(settings);
    expect(options).toMatchObject({
      minVersion: 'TLSv1.3',
      ciphers: 'TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384',
      requestCert: true,
      rejectUnauthorized: false,
      honorCipherOrder: true,
    });
    expect(options.cert.equals(readFileSync(good.certFile))).toBe(true);
    expect(options.ca?.equals(readFileSync(pki.caFile))).toBe(true);
    expect(tlsServerOptions({ certPath: good.certFile, keyPath: good.keyFile })).toMatchObject({
      minVersion: 'TLSv1.2',
      requestCert: false,
      rejectUnauthorized: false,
    });
    expect(
      tlsServerOptions({ ...settings, clientCertificates: 'required' }).rejectUnauthorized,
    ).toBe(true);
  });

  it('refuses TLS below 1.2, in settings and in the environment', () => {
    for (const minVersion of ['TLSv1', 'TLSv1.1', '1.0', '1.1']) {
      expect(
        code(() =>
          tlsServerOptions({ ...good, certPath: good.certFile, keyPath: good.keyFile, minVersion }),
        ),
      ).toEqual({
        code: 'ERR_TLS_CONFIG',
        message: 'minVersion: TLS below 1.2 is refused (RFC 8996): use TLSv1.2 or TLSv1.3',
      });
    }
    expect(
      code(() =>
        tlsServerOptions({ certPath: good.certFile, keyPath: good.keyFile, minVersion: 'TLSv2' }),
      )?.message,
    ).toBe('minVersion: must be TLSv1.2 or TLSv1.3');
    const env = code(() => tlsSettingsFromEnv({ TLS_MIN_VERSION: 'TLSv1.1' }));
    expect(env?.code).toBe('ERR_SECRETS_INVALID');
    expect(env?.message).toContain('TLS_MIN_VERSION: TLS below 1.2 is refused');
    expect(env?.message).toContain('SSL_CERT_PATH: missing');
    expect(env?.message).toContain('SSL_KEY_PATH: missing');
  });

  it('refuses a cipher list OpenSSL cannot use or one switching on a broken cipher', () => {
    const base = { certPath: good.certFile, keyPath: good.keyFile };
    expect(code(() => tlsServerOptions({ ...base, ciphers: 'NOT-A-CIPHER' }))).toEqual({
      code: 'ERR_TLS_CONFIG',
      message: 'ciphers: OpenSSL matches no cipher in the list (see `openssl ciphers -v <list>`)',
    });
    expect(
      code(() => tlsServerOptions({ ...base, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256' }))
        ?.message,
    ).toBe('ciphers: "NULL-SHA256" is a broken or unauthenticated cipher');
    expect(code(() => tlsServerOptions({ ...base, ciphers: 'RC4-SHA' }))?.message).toMatch(
      /broken/,
    );
    // Exclusions are fine.
    expect(tlsServerOptions({ ...base, ciphers: 'HIGH:!aNULL:!MD5' }).ciphers).toBe(
      'HIGH:!aNULL:!MD5',
    );
  });

  it('refuses an unreadable, unparsable or mismatched key without quoting it', () => {
    const missing = join(dir, 'missing.key');
    expect(code(() => tlsServerOptions({ certPath: good.certFile, keyPath: missing }))).toEqual({
      code: 'ERR_TLS_CONFIG',
      message: `cannot read the private key ${missing}: ENOENT`,
    });
    expect(
      code(() => tlsServerOptions({ certPath: good.certFile, keyPath: other.keyFile }))?.message,
    ).toBe(`the private key ${other.keyFile} does not match the certificate ${good.certFile}`);
    const garbage = join(dir, 'garbage.key');
    writeFileSync(
      garbage,
      '-----BEGIN PRIVATE KEY-----\nCANARY-KEY-8c1f2a\n-----END PRIVATE KEY-----\n',
    );
    const failure = code(() => tlsServerOptions({ certPath: good.certFile, keyPath: garbage }));
    expect(failure?.message).toMatch(/cannot be read/);
    expect(failure?.message).not.toContain('CANARY');
    expect(
      code(() => tlsServerOptions({ certPath: good.keyFile, keyPath: good.keyFile }))?.message,
    ).toMatch(/is not a PEM or DER certificate/);
    expect(
      code(() =>
        tlsServerOptions({
          certPath: good.certFile,
          keyPath: good.keyFile,
          clientCertificates: 'required',
        }),
      )?.message,
    ).toMatch(/need a CA bundle/);
  });

  describe('on a running HTTPS server', () => {
    let server: Server;
    let live: { certFile: string; keyFile: string };
    let port: number;
    beforeAll(async () => {
      live = { certFile: join(dir, 'live.pem'), keyFile: join(dir, 'live.key') };
      copyFileSync(good.certFile, live.certFile);
      copyFileSync(good.keyFile, live.keyFile);
      server = createServer(
        tlsServerOptions({ certPath: live.certFile, keyPath: live.keyFile }),
        (_req, res) => res.end('ok'),
      );
      server.keepAliveTimeout = 30_000;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    const sockets: TLSSocket[] = [];
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const open = (options: { minVersion?: 'TLSv1'; maxVersion?: 'TLSv1.1' } = {}) =>
      new Promise<TLSSocket>((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port, ca: readFileSync(pki.caFile), ...options },
          () => resolve(socket),
        );
        sockets.push(socket);
        socket.on('error', reject);
      });
    const fingerprintOf = (socket: TLSSocket) => socket.getPeerX509Certificate()?.fingerprint256;
    const ask = (socket: TLSSocket) =>
      new Promise<string>((resolve) => {
        socket.once('data', (chunk) => resolve(String(chunk)));
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });

    it('refuses a TLS 1.1 client', async () => {
      await expect(open({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })).rejects.toMatchObject({
        code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
      });
    });

    it('swaps the certificate on SIGHUP without dropping open connections', async () => {
      const before = await open();
      const oldFingerprint = fingerprintOf(before);
      expect(oldFingerprint).toBe(new X509Certificate(readFileSync(good.certFile)).fingerprint256);
      expect(await ask(before)).toMatch(/^HTTP\/1.1 200/);

      const errors: unknown[] = [];
      let reloaded!: () => void;
      const done = new Promise<void>((resolve) => {
        reloaded = resolve;
      });
      const reloader = reloadTlsOnSighup(
        server,
        { certPath: live.certFile, keyPath: live.keyFile },
        {
          onReload: () => reloaded(),
          onError: (err) => errors.push(err),
        },
      );
      try {
        // A half-replaced pair (new certificate, old key) is refused; the old one stays.
        copyFileSync(other.certFile, live.certFile);
        expect(reloader.reload()).toBe(false);
        expect(errors).toEqual([expect.objectContaining({ code: 'ERR_TLS_CONFIG' })]);
        const during = await open();
        expect(fingerprintOf(during)).toBe(oldFingerprint);
        during.destroy();

        copyFileSync(other.keyFile, live.keyFile);
        process.kill(process.pid, 'SIGHUP');
        await done;
      } finally {
        reloader.stop();
      }
      const after = await open();
      expect(fingerprintOf(after)).toBe(
        new X509Certificate(readFileSync(other.certFile)).fingerprint256,
      );
      // The connection opened before the reload is still up and still answers.
      expect(before.destroyed).toBe(false);
      expect(await ask(before)).toMatch(/^HTTP\/1.1 200/);
      before.destroy();
      after.destroy();
    });
  });
});
