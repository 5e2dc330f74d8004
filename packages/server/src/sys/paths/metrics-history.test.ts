import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

describe.each(await storageKinds())('GET /v1/sys/metrics-history on %s', (kind) => {
  let s: TestServer;
  let open: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { metricsHistoryIntervalMs: 50 });
    open = await startTestServer(kind, {
      metricsHistoryIntervalMs: 50,
      telemetry: { unauthenticated_metrics_access: true },
    });
  });
  afterAll(async () => {
    await s.close();
    await open.close();
  });

  it('serves the samples kept so far, with requests and denials counted', async () => {
    await s.policy('nothing', { 'secret/data/a': ['read'] });
    const limited = await s.token({ policies: ['nothing'] });
    for (let i = 0; i < 5; i++) await s.request('GET', 'sys/health');
    expect((await s.request('GET', 'secret/data/b', { token: limited })).status).toBe(403);
    await vi.waitFor(
      async () => {
        const r = await s.request('GET', 'sys/metrics-history');
        expect(r.status).toBe(200);
        const samples = r.body.data.samples as {
          requests_per_second: number;
          permission_denials: number;
        }[];
        expect(samples.reduce((n, x) => n + x.permission_denials, 0)).toBeGreaterThanOrEqual(1);
        expect(samples.some((x) => x.requests_per_second > 0)).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    const r = await s.request('GET', 'sys/metrics-history');
    expect(r.body.data.interval_seconds).toBe(0.05);
    // No TLS here: no certificate to report.
    expect(r.body.data.certificates).toEqual([]);
    expect(Object.keys(r.body.data.samples[0]).sort()).toEqual(
      [
        'auth_failures',
        'decryption_failures',
        'p50_ms',
        'p99_ms',
        'permission_denials',
        'requests_per_second',
        'sealed',
        'seconds',
        'time',
        'transit_operations',
      ].sort(),
    );
  });

  it('is guarded as sys/metrics: a token needs read on its path; none without a token', async () => {
    await s.policy('metrics-only', { 'sys/metrics': ['read'] });
    await s.policy('history', { 'sys/metrics-history': ['read'] });
    const metricsOnly = await s.token({ policies: ['metrics-only'] });
    const history = await s.token({ policies: ['history'] });
    expect((await s.request('GET', 'sys/metrics-history', { token: null })).status).toBe(403);
    expect((await s.request('GET', 'sys/metrics-history', { token: metricsOnly })).status).toBe(
      403,
    );
    expect((await s.request('GET', 'sys/metrics-history', { token: history })).status).toBe(200);
    // With unauthenticated_metrics_access, as sys/metrics: no token needed.
    expect((await open.request('GET', 'sys/metrics-history', { token: null })).status).toBe(200);
  });
});
