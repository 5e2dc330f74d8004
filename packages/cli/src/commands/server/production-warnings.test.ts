import { describe, expect, it } from 'vitest';
import { productionWarnings } from './production-warnings.js';

describe('productionWarnings', () => {
  it('warns about plain http beyond loopback, never on loopback or with TLS', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'custos.internal', '128.0.0.1']) {
      expect(productionWarnings({ host, tls: false, auditSinks: 1 }), host).toEqual([
        expect.stringMatching(
          new RegExp(`^WARNING: listening on ${host.replace(/\./g, '\\.')} without TLS`),
        ),
      ]);
      expect(productionWarnings({ host, tls: true, auditSinks: 1 }), host).toEqual([]);
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
      expect(productionWarnings({ host, tls: false, auditSinks: 1 }), host).toEqual([]);
    }
  });

  it('warns when no audit sink is configured', () => {
    expect(productionWarnings({ host: '127.0.0.1', tls: false, auditSinks: 0 })).toEqual([
      expect.stringMatching(/^WARNING: no audit sink/),
    ]);
    expect(productionWarnings({ host: '0.0.0.0', tls: false, auditSinks: 0 })).toHaveLength(2);
  });
});
