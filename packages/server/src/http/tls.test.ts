import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { selfSignedCertificate } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../server.js';

describe.runIf(requireTool('openssl'))('TLS', () => {
  let dir: string;
  let server: RunningServer;
  let cert: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-tls-'));
    selfSignedCertificate(dir);
    cert = await readFile(join(dir, 'cert.pem'));
    server = await startServer({
      dev: { rootTokenId: 'root' },
      port: 0,
      logLevel: 'silent',
      tls: { cert, key: await readFile(join(dir, 'key.pem')) },
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  function tlsRequest(
    request: string,
    options: { minVersion?: 'TLSv1' | 'TLSv1.1'; maxVersion?: 'TLSv1.1' } = {},
  ): Promise<string> {
    const { port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port), ca: cert, ...options }, () =>
        socket.end(request),
      );
      let data = '';
      socket.on('data', (c) => {
        data += c;
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
  }

  it('serves HTTPS with HSTS and answers the LIST verb over TLS', async () => {
    expect(server.url).toMatch(/^https:/);
    await tlsRequest(
      'POST /v1/secret/data/tls/a HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nContent-Length: 16\r\n\r\n{"data":{"a":1}}',
    );
    const health = await tlsRequest(
      'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(health).toMatch(/^HTTP\/1.1 200/);
    expect(health.toLowerCase()).toContain(
      'strict-transport-security: max-age=31536000; includesubdomains\r\n',
    );
    const listed = await tlsRequest(
      'LIST /v1/secret/metadata/tls HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nConnection: close\r\n\r\n',
    );
    expect(listed).toMatch(/^HTTP\/1.1 200/);
    expect(listed).toContain('"keys":["a"]');
  });

  it('refuses TLS 1.1 and older', async () => {
    // The server's alert, not the client giving up: the client offered TLS 1.0 and 1.1.
    await expect(
      tlsRequest('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n', {
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
      }),
    ).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
  });
});
