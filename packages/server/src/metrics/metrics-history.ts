import type { Registry } from 'prom-client';

/** One interval of the last hour: rates and counts over it, the seal state at its end. */
export interface MetricsSample {
  /** The end of the interval (ISO 8601). */
  readonly time: string;
  /** Seconds the interval lasted. */
  readonly seconds: number;
  readonly requests_per_second: number;
  /** Latency percentiles of the requests answered in the interval (ms); null without any. */
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly auth_failures: number;
  readonly permission_denials: number;
  /** Transit ciphertexts that failed authentication (`custos_integrity_failures_total{source="transit"}`). */
  readonly decryption_failures: number;
  readonly transit_operations: number;
  /** Sealed (or not initialised) at the end of the interval. */
  readonly sealed: boolean;
}

/** Options for {@link MetricsHistory}. */
export interface MetricsHistoryOptions {
  /** Unix milliseconds (default `Date.now`): tests move it instead of waiting. */
  readonly clock?: () => number;
  /** Length of one sample (default 30 s). */
  readonly intervalMs?: number;
  /** How far back samples are kept (default one hour). */
  readonly windowMs?: number;
}

/** Cumulative values, as the registry holds them. */
interface Totals {
  readonly at: number;
  readonly requests: number;
  /** `le` → cumulative count, over every route group and method. */
  readonly buckets: ReadonlyMap<number, number>;
  readonly authFailures: number;
  readonly denials: number;
  readonly decryptionFailures: number;
  readonly transit: number;
}

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

/**
 * The last hour of a few series, kept in memory for the dashboard's charts
 * (`sys/metrics-history`): every `intervalMs` the cumulative counters of the server's registry
 * are read and the interval's rates, latency percentiles (from the histogram's buckets, as
 * Prometheus' `histogram_quantile` estimates them) and counts are kept. At most
 * `windowMs / intervalMs` samples (120 by default), a few numbers each: bounded memory. Only
 * the families it needs are collected (not the whole registry, whose gauges query storage).
 *
 * @example
 * ```ts
 * const history = new MetricsHistory(metrics.registry);
 * history.start();
 * history.samples(); // the last hour, oldest first
 * ```
 */
export class MetricsHistory {
  readonly #registry: Registry;
  readonly #clock: () => number;
  readonly #intervalMs: number;
  readonly #windowMs: number;
  readonly #samples: MetricsSample[] = [];
  #last: Totals | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(registry: Registry, options: MetricsHistoryOptions = {}) {
    this.#registry = registry;
    this.#clock = options.clock ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 30_000;
    this.#windowMs = options.windowMs ?? 3_600_000;
  }

  /** The length of one sample (ms). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Takes a sample every interval (the first one sets the baseline). */
  start(): void {
    if (this.#timer !== undefined) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Reads the counters now and keeps the interval since the last reading (the first reading is
   * only the baseline). Called by the timer; tests call it after moving the clock.
   */
  async sample(): Promise<void> {
    const totals = await this.#totals();
    const sealed = (await this.#values('custos_sealed'))[0]?.value === 1;
    const last = this.#last;
    this.#last = totals;
    if (last === undefined || totals.at <= last.at) return;
    const seconds = (totals.at - last.at) / 1000;
    const latency = subtractBuckets(totals.buckets, last.buckets);
    this.#samples.push({
      time: new Date(totals.at).toISOString(),
      seconds,
      requests_per_second: round((totals.requests - last.requests) / seconds),
      p50_ms: quantileMs(latency, 0.5),
      p99_ms: quantileMs(latency, 0.99),
      auth_failures: totals.authFailures - last.authFailures,
      permission_denials: totals.denials - last.denials,
      decryption_failures: totals.decryptionFailures - last.decryptionFailures,
      transit_operations: totals.transit - last.transit,
      sealed,
    });
    const cutoff = totals.at - this.#windowMs;
    while (
      (this.#samples[0] && Date.parse(this.#samples[0].time) <= cutoff) ||
      this.#samples.length > this.#capacity()
    )
      this.#samples.shift();
  }

  /** The samples of the last window, oldest first. */
  samples(): readonly MetricsSample[] {
    const cutoff = this.#clock() - this.#windowMs;
    return this.#samples.filter((s) => Date.parse(s.time) > cutoff);
  }

  #capacity(): number {
    return Math.ceil(this.#windowMs / this.#intervalMs);
  }

  async #values(name: string): Promise<MetricValue[]> {
    const metric = this.#registry.getSingleMetric(name);
    if (metric === undefined) return [];
    return (await metric.get()).values as MetricValue[];
  }

  async #sum(
    name: string,
    match: (labels: Record<string, string | number>) => boolean = () => true,
  ) {
    return (await this.#values(name))
      .filter((v) => match(v.labels))
      .reduce((total, v) => total + v.value, 0);
  }

  async #totals(): Promise<Totals> {
    const at = this.#clock();
    const buckets = new Map<number, number>();
    for (const v of await this.#values('custos_http_request_duration_seconds')) {
      if (v.metricName !== 'custos_http_request_duration_seconds_bucket') continue;
      const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
    return {
      at,
      requests: await this.#sum('custos_http_requests_total'),
      buckets,
      authFailures: await this.#sum('custos_auth_failures_total'),
      denials: await this.#sum('custos_permission_denials_total'),
      decryptionFailures: await this.#sum(
        'custos_integrity_failures_total',
        (l) => l.source === 'transit',
      ),
      transit: await this.#sum('custos_transit_operations_total'),
    };
  }
}

function subtractBuckets(
  now: ReadonlyMap<number, number>,
  before: ReadonlyMap<number, number>,
): [number, number][] {
  return [...now]
    .map(([le, count]): [number, number] => [le, count - (before.get(le) ?? 0)])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The `q` quantile (ms) of cumulative buckets, interpolated linearly within its bucket as
 * Prometheus does; the highest finite bound when it falls in `+Inf`; null without observations.
 */
export function quantileMs(buckets: readonly [number, number][], q: number): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return round(lowerBound * 1000);
      const inBucket = count - lowerCount;
      const fraction = inBucket === 0 ? 0 : (rank - lowerCount) / inBucket;
      return round((lowerBound + (le - lowerBound) * fraction) * 1000);
    }
    lowerBound = Number.isFinite(le) ? le : lowerBound;
    lowerCount = count;
  }
  return round(lowerBound * 1000);
}

const round = (n: number) => Math.round(n * 1000) / 1000;
