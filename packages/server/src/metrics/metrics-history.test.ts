import { describe, expect, it } from 'vitest';
import { MetricsHistory, quantileMs } from './metrics-history.js';
import { createServerMetrics } from './server-metrics.js';

describe('MetricsHistory', () => {
  it('keeps per-interval rates, latency percentiles and counts, by an injected clock', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const metrics = createServerMetrics({ clock: () => now });
    let sealed = false;
    metrics.watch({
      sealed: () => sealed,
      nodes: async () => 1,
      overdueRotations: async () => 0,
    });
    const history = new MetricsHistory(metrics.registry, { clock: () => now, intervalMs: 30_000 });
    await history.sample(); // the baseline
    expect(history.samples()).toEqual([]);
    for (let i = 0; i < 60; i++) metrics.request('kv/data', 'GET', 200, 0.004);
    metrics.request('kv/data', 'GET', 200, 2);
    metrics.authenticationFailed('bad_token');
    metrics.permissionDenied('kv/data');
    metrics.permissionDenied('kv/data');
    metrics.integrityFailed('transit');
    metrics.integrityFailed('storage');
    metrics.transitOperation('orders', 'encrypt', true);
    metrics.transitOperation('orders', 'decrypt', false);
    now += 30_000;
    await history.sample();
    const [first] = history.samples();
    expect(first).toMatchObject({
      time: '2026-01-01T00:00:30.000Z',
      seconds: 30,
      requests_per_second: round(61 / 30),
      auth_failures: 1,
      permission_denials: 2,
      decryption_failures: 1,
      transit_operations: 2,
      sealed: false,
    });
    // 60 of 61 requests are in the (2.5 ms, 5 ms] bucket: the median lies inside it.
    expect(first?.p50_ms).toBeGreaterThan(2.5);
    expect(first?.p50_ms).toBeLessThanOrEqual(5);
    expect(first?.p99_ms).toBeGreaterThan(1000);
    sealed = true;
    now += 30_000;
    await history.sample();
    expect(history.samples().at(-1)).toMatchObject({
      requests_per_second: 0,
      p50_ms: null,
      p99_ms: null,
      auth_failures: 0,
      sealed: true,
    });
  });

  it('keeps only the last hour, at most one sample per interval of it', async () => {
    let now = 1_000_000;
    const metrics = createServerMetrics();
    const history = new MetricsHistory(metrics.registry, { clock: () => now, intervalMs: 60_000 });
    for (let i = 0; i <= 200; i++) {
      await history.sample();
      now += 60_000;
    }
    const kept = history.samples();
    expect(kept.length).toBeLessThanOrEqual(60);
    expect(kept.length).toBeGreaterThanOrEqual(59);
    const oldest = Date.parse(kept[0]?.time ?? '');
    expect(now - oldest).toBeLessThanOrEqual(3_600_000 + 60_000);
    // The clock moved on without samples (a stopped timer): nothing older than an hour is shown.
    now += 2 * 3_600_000;
    expect(history.samples()).toEqual([]);
  });

  it('estimates quantiles as histogram_quantile does', () => {
    expect(quantileMs([], 0.5)).toBeNull();
    expect(
      quantileMs(
        [
          [0.01, 0],
          [Number.POSITIVE_INFINITY, 0],
        ],
        0.5,
      ),
    ).toBeNull();
    expect(
      quantileMs(
        [
          [0.01, 10],
          [0.1, 20],
          [Number.POSITIVE_INFINITY, 20],
        ],
        0.5,
      ),
    ).toBe(10);
    expect(
      quantileMs(
        [
          [0.01, 10],
          [0.1, 20],
          [Number.POSITIVE_INFINITY, 20],
        ],
        0.75,
      ),
    ).toBe(55);
    expect(
      quantileMs(
        [
          [0.01, 0],
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 4],
        ],
        0.5,
      ),
    ).toBe(100);
  });
});

const round = (n: number) => Math.round(n * 1000) / 1000;
