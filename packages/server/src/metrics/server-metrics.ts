import { X509Certificate } from 'node:crypto';
import { ServerError } from '../errors.js';
import { boundedLabel } from './bounded-labels.js';
import type { CacheCounter } from './cache-counter.js';
import { Counter, Gauge, Histogram, Registry } from './prom-classes.js';

/** Where the gauges read the server's state when scraped. */
export interface ServerStateSources {
  /** Whether the server is sealed (or not yet initialised). */
  readonly sealed: () => boolean;
  /** How many nodes share this storage; undefined while it cannot be known (sealed). */
  readonly nodes: () => Promise<number | undefined>;
  /** How many secrets are past their rotation due time; undefined while sealed. */
  readonly overdueRotations: () => Promise<number | undefined>;
}

/** Options for {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * How many transit key names get their own `key` label value; later keys are counted as
   * `other` (default 100).
   */
  readonly maxKeyLabels?: number;
  /** The clock certificate expiry is measured by, Unix milliseconds (default `Date.now`). */
  readonly clock?: () => number;
}

/** A certificate the configuration names, with the name its series is labelled with. */
export interface ConfiguredCertificate {
  readonly name: string;
  /** PEM or DER: the first certificate is read. */
  readonly certificate: string | Buffer;
}

/** A certificate's expiry as the metrics hold it. */
export interface CertificateExpiry {
  readonly name: string;
  readonly subject: string;
  /** Unix ms. */
  readonly notAfter: number;
  /** Days until it expires, negative once it has. */
  readonly daysLeft: number;
}

/** HTTP methods counted by name; any other is counted as `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'LIST', 'OPTIONS']);

/** Latency buckets (seconds): from a cached read to a slow storage round trip. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The server's metrics, each family prefixed `custos_`, in a registry of its own (never
 * prom-client's global one: several servers may run in one process). Label values are route
 * group names, methods, statuses, reasons and (bounded) transit key names: never a raw path,
 * a token or a value.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** One answered request: its route group (`unmatched` when no route matched). */
  request(group: string, method: string, status: number, seconds: number): void;
  /**
   * A request refused because its token is missing, unknown or expired, its signature is bad,
   * or an AppRole login's credentials were refused.
   */
  authenticationFailed(reason: string): void;
  /** An authenticated request its policies do not allow. */
  permissionDenied(group: string): void;
  /** A ciphertext or stored entry that failed authentication (a tamper signal). */
  integrityFailed(source: 'transit' | 'storage'): void;
  /** One transit key operation (per batch item), `ok` or `error`. */
  transitOperation(key: string, operation: string, ok: boolean): void;
  /** One write an audit sink failed. */
  auditSinkFailed(sink: string): void;
  /** A rotation that ran, by its result (`succeeded`, `rolled_back`, `failed`). */
  rotation(result: string): void;
  /** A cache's lookup counter; its hit ratio is exported as `custos_cache_hit_ratio`. */
  registerCache(name: string): CacheCounter;
  /** Where the seal state, node count and overdue rotation gauges read the server's state. */
  watch(sources: ServerStateSources): void;
  /**
   * The certificate the server serves (PEM or DER, the leaf first), whose days to expiry are
   * exported as `custos_tls_certificate_expiry_days{certificate="server"}`; called again when
   * it is reloaded. A certificate that cannot be read removes the series.
   */
  setCertificate(certificate: string | Buffer): void;
  /** Days until the served certificate expires (negative once it has); undefined without one. */
  certificateExpiryDays(): number | undefined;
  /**
   * Other certificates the configuration names (the client CA bundle's), exported beside the
   * served one as `custos_tls_certificate_expiry_days{certificate="<name>"}`; replaces the
   * previous set. Names come from the configuration, never from a request.
   */
  setConfiguredCertificates(certificates: readonly ConfiguredCertificate[]): void;
  /** Every certificate with its expiry: the served one (`server`) first, then the configured ones. */
  certificates(): CertificateExpiry[];
  /** An alert a rule raised (`fired`) or held back by the rate limit (`rate_limited`). */
  alert(rule: string, outcome: 'fired' | 'rate_limited'): void;
  /** How an alert fared on one channel: `delivered`, `failed` or `dropped`. */
  alertDelivery(channel: string, outcome: 'delivered' | 'failed' | 'dropped'): void;
}

/**
 * Creates the metrics of one server instance.
 *
 * @example
 * ```ts
 * const metrics = createServerMetrics({ maxKeyLabels: 50 });
 * metrics.request('transit/encrypt', 'POST', 200, 0.004);
 * const text = await metrics.registry.metrics();
 * ```
 */
export function createServerMetrics(options: ServerMetricsOptions = {}): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const maxKeyLabels = options.maxKeyLabels ?? 100;
  if (!Number.isInteger(maxKeyLabels) || maxKeyLabels < 0)
    throw new ServerError(
      'ERR_INVALID_CONFIG',
      'telemetry.max_key_labels must be a non-negative integer',
    );
  const keyLabel = boundedLabel(maxKeyLabels);
  let sources: ServerStateSources | undefined;

  const requests = new Counter({
    name: 'custos_http_requests_total',
    help: 'HTTP requests answered, by route group, method and status',
    labelNames: ['group', 'method', 'status'],
    registers,
  });
  const latency = new Histogram({
    name: 'custos_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route group and method',
    labelNames: ['group', 'method'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const authFailures = new Counter({
    name: 'custos_auth_failures_total',
    help: 'Requests refused for a missing or bad token, a bad signature or refused AppRole credentials, by reason',
    labelNames: ['reason'],
    registers,
  });
  const denials = new Counter({
    name: 'custos_permission_denials_total',
    help: 'Authenticated requests their policies do not allow, by route group',
    labelNames: ['group'],
    registers,
  });
  const integrity = new Counter({
    name: 'custos_integrity_failures_total',
    help: 'Ciphertexts (transit) or stored entries (storage) that failed authentication',
    labelNames: ['source'],
    registers,
  });
  const transit = new Counter({
    name: 'custos_transit_operations_total',
    help: 'Transit key operations (per batch item), by key, operation and outcome',
    labelNames: ['key', 'operation', 'outcome'],
    registers,
  });
  const auditSinks = new Counter({
    name: 'custos_audit_sink_failures_total',
    help: 'Writes an audit sink failed, by sink',
    labelNames: ['sink'],
    registers,
  });
  new Gauge({
    name: 'custos_sealed',
    help: '1 while the server is sealed or not initialised, 0 while unsealed',
    registers,
    collect() {
      if (sources !== undefined) this.set(sources.sealed() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'custos_cluster_nodes',
    help: 'Nodes sharing this storage (known while unsealed)',
    registers,
    async collect() {
      const count = await sources?.nodes().catch(() => undefined);
      if (count !== undefined) this.set(count);
      else this.reset();
    },
  });
  const rotations = new Counter({
    name: 'custos_rotations_total',
    help: 'Secret rotations that ran (by a request or the scheduler), by result',
    labelNames: ['result'],
    registers,
  });
  new Gauge({
    name: 'custos_rotation_overdue_secrets',
    help: 'Secrets past their rotation due time (known while unsealed)',
    registers,
    async collect() {
      const count = await sources?.overdueRotations().catch(() => undefined);
      if (count !== undefined) this.set(count);
      else this.reset();
    },
  });
  const cacheLookups = new Counter({
    name: 'custos_cache_lookups_total',
    help: 'Cache lookups, by cache and result (hit or miss)',
    labelNames: ['cache', 'result'],
    registers,
  });
  const clock = options.clock ?? Date.now;
  let served: { notAfter: number; subject: string } | undefined;
  let configured: { name: string; notAfter: number; subject: string }[] = [];
  const daysUntil = (at: number) => (at - clock()) / 86_400_000;
  const daysLeft = () => (served === undefined ? undefined : daysUntil(served.notAfter));
  new Gauge({
    name: 'custos_tls_certificate_expiry_days',
    help: 'Days until the served TLS certificate expires (negative once it has)',
    labelNames: ['certificate'],
    registers,
    collect() {
      this.reset();
      const days = daysLeft();
      if (days !== undefined) this.set({ certificate: 'server' }, days);
      for (const cert of configured) this.set({ certificate: cert.name }, daysUntil(cert.notAfter));
    },
  });
  const alerts = new Counter({
    name: 'custos_alerts_total',
    help: 'Alerts raised by a rule (fired) or held back by the rate limit (rate_limited), by rule',
    labelNames: ['rule', 'outcome'],
    registers,
  });
  const alertDeliveries = new Counter({
    name: 'custos_alert_deliveries_total',
    help: 'Alert deliveries by channel and outcome (delivered, failed, dropped)',
    labelNames: ['channel', 'outcome'],
    registers,
  });
  const caches = new Map<string, { hits: number; misses: number }>();
  new Gauge({
    name: 'custos_cache_hit_ratio',
    help: 'Hits over lookups since start, by cache',
    labelNames: ['cache'],
    registers,
    collect() {
      for (const [cache, { hits, misses }] of caches)
        if (hits + misses > 0) this.set({ cache }, hits / (hits + misses));
    },
  });

  return {
    registry,
    request(group, method, status, seconds) {
      const m = METHODS.has(method) ? method : 'other';
      requests.inc({ group, method: m, status: String(status) });
      latency.observe({ group, method: m }, seconds);
    },
    authenticationFailed: (reason) => authFailures.inc({ reason }),
    permissionDenied: (group) => denials.inc({ group }),
    integrityFailed: (source) => integrity.inc({ source }),
    transitOperation: (key, operation, ok) =>
      transit.inc({ key: keyLabel(key), operation, outcome: ok ? 'ok' : 'error' }),
    auditSinkFailed: (sink) => auditSinks.inc({ sink }),
    rotation: (result) => rotations.inc({ result }),
    registerCache(name) {
      const counts = caches.get(name) ?? { hits: 0, misses: 0 };
      caches.set(name, counts);
      return {
        hit() {
          counts.hits += 1;
          cacheLookups.inc({ cache: name, result: 'hit' });
        },
        miss() {
          counts.misses += 1;
          cacheLookups.inc({ cache: name, result: 'miss' });
        },
      };
    },
    watch(next) {
      sources = next;
    },
    setCertificate(certificate) {
      served = expiryOf(certificate);
    },
    certificateExpiryDays: daysLeft,
    setConfiguredCertificates(certificates) {
      configured = certificates.flatMap(({ name, certificate }) => {
        const expiry = expiryOf(certificate);
        return expiry === undefined || name === 'server' ? [] : [{ name, ...expiry }];
      });
    },
    certificates: () =>
      [...(served === undefined ? [] : [{ name: 'server', ...served }]), ...configured].map(
        (c) => ({ ...c, daysLeft: daysUntil(c.notAfter) }),
      ),
    alert: (rule, outcome) => alerts.inc({ rule, outcome }),
    alertDelivery: (channel, outcome) => alertDeliveries.inc({ channel, outcome }),
  };
}

/** A certificate's expiry and subject, or undefined for something that is not one. */
function expiryOf(certificate: string | Buffer): { notAfter: number; subject: string } | undefined {
  try {
    const x509 = new X509Certificate(certificate);
    // `validTo` as OpenSSL prints it (`Mar  4 10:00:00 2027 GMT`), which Date.parse reads.
    const at = Date.parse(x509.validTo);
    return Number.isNaN(at)
      ? undefined
      : { notAfter: at, subject: x509.subject.replace(/\n/g, ', ') };
  } catch {
    return undefined;
  }
}
