import type { Registry } from 'prom-client';

/** One gauge, as Vault's JSON metrics list it. */
export interface VaultGauge {
  readonly Name: string;
  readonly Value: number;
  readonly Labels: Readonly<Record<string, string>>;
}

/** One counter or sample summary, as Vault's JSON metrics list it. */
export interface VaultSummary {
  readonly Name: string;
  readonly Count: number;
  readonly Sum: number;
  readonly Mean: number;
  readonly Labels: Readonly<Record<string, string>>;
}

/** The body of `GET /v1/sys/metrics` without `format`, in Vault's shape. */
export interface VaultMetrics {
  readonly Timestamp: string;
  readonly Gauges: VaultGauge[];
  readonly Counters: VaultSummary[];
  readonly Samples: VaultSummary[];
  readonly Points: never[];
}

type Labels = Readonly<Partial<Record<string, string | number>>>;

const labelsOf = (labels: Labels): Record<string, string> =>
  Object.fromEntries(
    Object.entries(labels).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])),
  );

const keyOf = (labels: Labels) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * The registry's metrics in Vault's JSON form: gauges as `Gauges`; counters as `Counters`
 * (cumulative since start: `Count` and `Sum` are the total, every increment being 1);
 * histograms as `Samples` (`Count`, `Sum` and `Mean` of the observations, in seconds).
 *
 * @example
 * ```ts
 * const body = await vaultMetrics(metrics.registry, new Date());
 * body.Counters.find((c) => c.Name === 'custos_http_requests_total');
 * ```
 */
export async function vaultMetrics(registry: Registry, at: Date): Promise<VaultMetrics> {
  const Gauges: VaultGauge[] = [];
  const Counters: VaultSummary[] = [];
  const Samples: VaultSummary[] = [];
  for (const family of await registry.getMetricsAsJSON()) {
    const type = String(family.type);
    if (type === 'gauge') {
      for (const { value, labels } of family.values)
        Gauges.push({ Name: family.name, Value: value, Labels: labelsOf(labels) });
    } else if (type === 'counter') {
      for (const { value, labels } of family.values)
        Counters.push({
          Name: family.name,
          Count: value,
          Sum: value,
          Mean: 1,
          Labels: labelsOf(labels),
        });
    } else if (type === 'histogram') {
      const series = new Map<
        string,
        { labels: Record<string, string>; count: number; sum: number }
      >();
      for (const v of family.values) {
        const metricName = (v as { metricName?: string }).metricName ?? '';
        if (!metricName.endsWith('_sum') && !metricName.endsWith('_count')) continue;
        const key = keyOf(v.labels);
        const entry = series.get(key) ?? { labels: labelsOf(v.labels), count: 0, sum: 0 };
        if (metricName.endsWith('_sum')) entry.sum = v.value;
        else entry.count = v.value;
        series.set(key, entry);
      }
      for (const { labels, count, sum } of series.values())
        Samples.push({
          Name: family.name,
          Count: count,
          Sum: sum,
          Mean: count === 0 ? 0 : sum / count,
          Labels: labels,
        });
    }
  }
  return { Timestamp: at.toISOString(), Gauges, Counters, Samples, Points: [] };
}
