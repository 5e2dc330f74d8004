import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseListen, parseServerConfig } from './server-config.js';

describe('server configuration', () => {
  it('fills defaults and resolves paths against the config file directory', () => {
    const config = parseServerConfig(
      {
        storage: 'data/custos.db',
        audit: [{ type: 'file', path: 'log/audit.log' }, { type: 'stdout' }],
        tls: { cert: 'c.pem', key: 'k.pem' },
      },
      '/etc/custos',
    );
    expect(config).toEqual({
      listen: '127.0.0.1:8200',
      storage: '/etc/custos/data/custos.db',
      tls: { cert: '/etc/custos/c.pem', key: '/etc/custos/k.pem' },
      audit: [
        { type: 'file', path: '/etc/custos/log/audit.log', name: 'file' },
        { type: 'stdout', name: 'stdout' },
      ],
      maxRequestBytes: 4 * 1024 * 1024,
      requestTimeoutMs: 60_000,
      auditTimeoutMs: 2000,
      logLevel: 'info',
      trustedProxies: [],
      allowedHosts: [],
      shutdownGraceMs: 30_000,
      ui: true,
    });
    expect(parseServerConfig({ storage: 'x', ui: false }, '/').ui).toBe(false);
    for (const ui of ['false', 0, null, {}])
      expect(() => parseServerConfig({ storage: 'x', ui }, '/')).toThrow(
        'config: "ui" must be true or false',
      );
    expect(
      parseServerConfig(
        {
          storage: 'x',
          tls: {
            cert: 'c.pem',
            key: 'k.pem',
            ca: 'clients.pem',
            minVersion: 'TLSv1.3',
            ciphers: 'TLS_AES_256_GCM_SHA384',
            clientCertificates: 'required',
          },
        },
        '/etc/custos',
      ).tls,
    ).toEqual({
      cert: '/etc/custos/c.pem',
      key: '/etc/custos/k.pem',
      ca: '/etc/custos/clients.pem',
      minVersion: 'TLSv1.3',
      ciphers: 'TLS_AES_256_GCM_SHA384',
      clientCertificates: 'required',
    });
    expect(
      parseServerConfig({ storage: 'x', aws: { pathPrefix: '/aws', region: 'eu-west-1' } }, '/')
        .aws,
    ).toEqual({ pathPrefix: '/aws', region: 'eu-west-1' });
    expect(parseServerConfig({ storage: 'postgres://db/custos' }, '/x').storage).toBe(
      'postgres://db/custos',
    );
  });

  it('reads rotation and retention of a file sink', () => {
    const config = parseServerConfig(
      {
        storage: 'x',
        audit: [
          { type: 'file', path: 'a.log', max_bytes: 1048576, max_age: '1d', retain: 365 },
          { type: 'file', path: 'b.log', name: 'short', retain: 7, allow_short_retention: true },
        ],
      },
      '/etc/custos',
    );
    expect(config.audit).toEqual([
      {
        type: 'file',
        path: '/etc/custos/a.log',
        name: 'file',
        maxBytes: 1048576,
        maxAgeSeconds: 86400,
        retainDays: 365,
      },
      { type: 'file', path: '/etc/custos/b.log', name: 'short', retainDays: 7 },
    ]);
  });

  it.each([
    [{}, /"storage"/],
    [{ storage: 'x', listen: 'nowhere' }, /"listen"/],
    [{ storage: 'x', audit: [{ type: 'kafka' }] }, /audit\[0\]\.type/],
    [{ storage: 'x', audit: [{ type: 'syslog' }] }, /audit\[0\]\.address/],
    [{ storage: 'x', audit: [{ type: 'file' }] }, /audit\[0\]\.path/],
    [{ storage: 'x', audit: [{ type: 'stdout' }, { type: 'stdout' }] }, /distinct names/],
    [
      { storage: 'x', audit: [{ type: 'file', path: 'a', retain: 30 }] },
      /audit\[0\]\.retain is 30 days, below the 90 days .*set "allow_short_retention": true/,
    ],
    [
      {
        storage: 'x',
        audit: [{ type: 'file', path: 'a', retain: 30, allow_short_retention: 'yes' }],
      },
      /audit\[0\]\.allow_short_retention must be true or false/,
    ],
    [{ storage: 'x', audit: [{ type: 'file', path: 'a', retain: 0 }] }, /audit\[0\]\.retain/],
    [{ storage: 'x', audit: [{ type: 'file', path: 'a', retain: '90d' }] }, /whole number of days/],
    [{ storage: 'x', audit: [{ type: 'file', path: 'a', max_bytes: 100 }] }, /at least 4096/],
    [
      { storage: 'x', audit: [{ type: 'file', path: 'a', max_age: 'daily' }] },
      /audit\[0\]\.max_age/,
    ],
    [{ storage: 'x', audit: [{ type: 'file', path: 'a', max_age: '10s' }] }, /at least 60 s/],
    [
      { storage: 'x', audit: [{ type: 'file', path: 'a', maxBytes: 5000 }] },
      /unknown field audit\[0\]\.maxBytes/,
    ],
    [{ storage: 'x', maxRequestBytes: -1 }, /maxRequestBytes/],
    [{ storage: 'x', requestTimeoutMs: 0 }, /requestTimeoutMs/],
    [{ storage: 'x', tls: { cert: 'c' } }, /"tls"/],
    [{ storage: 'x', tls: { cert: 'c', key: 'k', minVersion: 'TLSv1.1' } }, /below 1.2 is refused/],
    [{ storage: 'x', tls: { cert: 'c', key: 'k', ciphers: 3 } }, /"tls.ciphers"/],
    [{ storage: 'x', tls: { cert: 'c', key: 'k', sni: true } }, /unknown field "tls.sni"/],
    [
      { storage: 'x', tls: { cert: 'c', key: 'k', clientCertificates: 'required' } },
      /needs "tls.ca"/,
    ],
    [
      { storage: 'x', tls: { cert: 'c', key: 'k', ca: 'a', clientCertificates: 'maybe' } },
      /clientCertificates/,
    ],
    [{ storage: 'x', logLevel: 'loud' }, /logLevel/],
    [{ storage: 'x', storge: 'typo' }, /unknown field "storge"/],
    [{ storage: 'x', aws: { prefix: '/aws' } }, /unknown field "aws\.prefix"/],
    [{ storage: 'x', aws: { region: 1 } }, /"aws\.region"/],
  ])('refuses %j with ERR_INVALID_CONFIG naming the field', (raw, message) => {
    expect(() => parseServerConfig(raw, '/')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_CONFIG',
        message: expect.stringMatching(message),
      }),
    );
  });

  it('parses listen addresses, IPv6 included', () => {
    expect(parseListen('0.0.0.0:8200')).toEqual({ host: '0.0.0.0', port: 8200 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });

  it('reads shutdownGraceMs as a positive integer', () => {
    expect(parseServerConfig({ storage: 'x', shutdownGraceMs: 5000 }, '/').shutdownGraceMs).toBe(
      5000,
    );
    for (const shutdownGraceMs of [0, -1, 1.5, '30s'])
      expect(() => parseServerConfig({ storage: 'x', shutdownGraceMs }, '/')).toThrow(
        /^config: "shutdownGraceMs" must be a positive integer/,
      );
  });

  it('reads the telemetry section with Vault names and refuses anything else', () => {
    expect(parseServerConfig({ storage: 'x' }, '/').telemetry).toBeUndefined();
    expect(
      parseServerConfig(
        { storage: 'x', telemetry: { unauthenticated_metrics_access: true, max_key_labels: 5 } },
        '/',
      ).telemetry,
    ).toEqual({ unauthenticated_metrics_access: true, max_key_labels: 5 });
    const refusals: [unknown, RegExp][] = [
      [true, /^config: "telemetry" must be/],
      [[], /^config: "telemetry" must be/],
      [{ unauthenticated_metrics_access: 'true' }, /unauthenticated_metrics_access" must be true/],
      [{ max_key_labels: -1 }, /max_key_labels" must be an integer/],
      [{ max_key_labels: 1.5 }, /max_key_labels" must be an integer/],
      [{ max_key_labels: 1e6 }, /max_key_labels" must be an integer/],
      [
        { unauthenticatedMetricsAccess: true },
        /unknown field "telemetry.unauthenticatedMetricsAccess"/,
      ],
    ];
    for (const [telemetry, message] of refusals)
      expect(() => parseServerConfig({ storage: 'x', telemetry }, '/')).toThrow(message);
  });

  it('reads trustedProxies as CIDR blocks and refuses anything else, without echoing it', () => {
    expect(
      parseServerConfig({ storage: 'x', trustedProxies: ['10.0.0.5/32', '::1'] }, '/')
        .trustedProxies,
    ).toEqual(['10.0.0.5/32', '::1']);
    for (const trustedProxies of ['10.0.0.0/8', [7], ['10.0.0.0/99'], ['proxy.internal']]) {
      expect(() => parseServerConfig({ storage: 'x', trustedProxies }, '/')).toThrow(
        /^config: "?trustedProxies/,
      );
    }
  });

  it('reads allowedHosts as host names, lower-cased, and refuses ports, schemes and the rest', () => {
    expect(
      parseServerConfig({ storage: 'x', allowedHosts: ['Vault.Example.com', 'vault'] }, '/')
        .allowedHosts,
    ).toEqual(['vault.example.com', 'vault']);
    for (const allowedHosts of [
      'vault.example.com',
      ['vault.example.com:8200'],
      ['https://vault.example.com'],
      ['*.example.com'],
      ['-bad.example'],
      [''],
      [7],
    ]) {
      expect(() => parseServerConfig({ storage: 'x', allowedHosts }, '/')).toThrow(
        'config: "allowedHosts" must be a list of host names (no port, no scheme)',
      );
    }
  });

  it('is documented field by field in docs/operations.md, with an example that parses', async () => {
    const doc = await readFile(new URL('../../../../docs/operations.md', import.meta.url), 'utf8');
    const section = doc.slice(
      doc.indexOf('## Configuration reference'),
      doc.indexOf('## Production'),
    );
    const documented = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    const refusal = (() => {
      try {
        parseServerConfig({ storage: 'x.db', notAField: 1 }, '/');
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    const known = /\(known: ([^)]*)\)/.exec(refusal)?.[1]?.split(', ');
    expect(known).toBeDefined();
    expect([...documented].sort()).toEqual([...(known as string[])].sort());
    const example = /```json\n([\s\S]*?)```/.exec(section)?.[1] as string;
    expect(parseServerConfig(JSON.parse(example), '/etc/custos')).toMatchObject({
      listen: '0.0.0.0:8200',
      tls: { cert: '/etc/custos/tls/cert.pem' },
      audit: [{ type: 'file', path: '/var/log/custos/audit.log', name: 'file' }],
    });
  });

  it('parses the audit section example of docs/operations.md', async () => {
    const doc = await readFile(new URL('../../../../docs/operations.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Audit log: rotation'));
    const example = /```json\n([\s\S]*?)```/.exec(section)?.[1] as string;
    expect(parseServerConfig({ storage: 'x', ...JSON.parse(example) }, '/').audit).toEqual([
      {
        type: 'file',
        name: 'node-a',
        path: '/var/log/custos/audit.log',
        maxBytes: 104857600,
        maxAgeSeconds: 86400,
        retainDays: 400,
      },
    ]);
  });
});
