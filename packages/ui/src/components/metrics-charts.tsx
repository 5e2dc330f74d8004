import { useId } from 'react';
import { Heading } from 'react-aria-components';
import { ApiError, describeError, type Envelope } from '../api.js';
import { useApi, useLoad } from '../session-context.js';
import { ErrorMessage } from './messages.js';

/** One sample of `sys/metrics-history`. */
interface Sample {
  readonly time: string;
  readonly requests_per_second: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly auth_failures: number;
  readonly permission_denials: number;
  readonly decryption_failures: number;
  readonly transit_operations: number;
  readonly sealed: boolean;
}

interface Certificate {
  readonly name: string;
  readonly subject: string;
  readonly days_left: number;
  readonly expires: string;
}

interface History {
  readonly interval_seconds: number;
  readonly samples: Sample[];
  readonly certificates: Certificate[];
}

type Series = readonly [label: string, unit: string, value: (s: Sample) => number | null];

const SERIES: readonly Series[] = [
  ['Requests per second', '/s', (s) => s.requests_per_second],
  ['Latency, median', 'ms', (s) => s.p50_ms],
  ['Latency, 99th percentile', 'ms', (s) => s.p99_ms],
  ['Authentication failures', '', (s) => s.auth_failures],
  ['Permission denials', '', (s) => s.permission_denials],
  ['Decryption failures', '', (s) => s.decryption_failures],
  ['Transit operations', '', (s) => s.transit_operations],
  ['Sealed (1) or unsealed (0)', '', (s) => (s.sealed ? 1 : 0)],
];

/** Warn under 30 days, alarm under 7 (and once expired): said in words, not colour alone. */
function certificateState(days: number): { label: string; className: string } {
  if (days < 0) return { label: 'expired', className: 'badge badge-bad' };
  if (days < 7) return { label: 'renew now (under 7 days)', className: 'badge badge-bad' };
  if (days < 30) return { label: 'renew soon (under 30 days)', className: 'badge badge-warn' };
  return { label: 'valid', className: 'badge badge-good' };
}

/**
 * The certificates the server serves with their days to expiry, and the last hour's charts
 * (`sys/metrics-history`): each chart a small SVG line with a text summary and its values as a
 * table. Loaded with the health page, on first use.
 */
export function HealthMetrics({ round }: { readonly round: number }) {
  const api = useApi();
  const history = useLoad(async () => {
    try {
      return (await api.get<Envelope<History>>('sys/metrics-history')).data;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return 'denied' as const;
      throw err;
    }
  }, `metrics-history-${round}`);
  const data = typeof history.data === 'object' ? history.data : undefined;
  return (
    <>
      <Heading level={2}>Certificates</Heading>
      {history.data === 'denied' && (
        <p className="note">
          Your token may not read the metrics (<code>sys/metrics-history</code> needs{' '}
          <code>read</code>, as <code>sys/metrics</code>).
        </p>
      )}
      {history.error !== undefined && (
        <ErrorMessage>{describeError(history.error, 'read the metrics')}</ErrorMessage>
      )}
      {data !== undefined && data.certificates.length === 0 && (
        <p className="note">The server serves no TLS certificate (plain http).</p>
      )}
      {data !== undefined && data.certificates.length > 0 && (
        // Narrow enough for a phone: it never scrolls within itself.
        <table className="table table-fit" aria-label="Certificates">
          <thead>
            <tr>
              <th scope="col">Certificate</th>
              <th scope="col">Expires</th>
              <th scope="col">Days left</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {data.certificates.map((cert) => {
              const state = certificateState(cert.days_left);
              return (
                <tr key={cert.name}>
                  <th scope="row">
                    {cert.name === 'server'
                      ? "the server's own"
                      : cert.name.startsWith('client-ca')
                        ? `client CA (${cert.name})`
                        : cert.name}
                    <br />
                    <span className="note subject">{cert.subject}</span>
                  </th>
                  <td>{cert.expires.slice(0, 10)}</td>
                  <td>{cert.days_left}</td>
                  <td>
                    <span className={state.className}>{state.label}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Heading level={2}>The last hour</Heading>
      {data !== undefined && data.samples.length === 0 && (
        <p className="note">
          No sample yet: the server keeps one every {data.interval_seconds} s from its start (in
          memory).
        </p>
      )}
      {data !== undefined && data.samples.length > 0 && (
        <div className="charts">
          {SERIES.map(([label, unit, value]) => (
            <Chart key={label} label={label} unit={unit} samples={data.samples} value={value} />
          ))}
        </div>
      )}
    </>
  );
}

const WIDTH = 240;
const HEIGHT = 60;

function Chart({
  label,
  unit,
  samples,
  value,
}: {
  readonly label: string;
  readonly unit: string;
  readonly samples: readonly Sample[];
  readonly value: (s: Sample) => number | null;
}) {
  const id = useId();
  const points = samples.map((s) => ({ time: s.time, value: value(s) }));
  const known = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const max = Math.max(0, ...known);
  const min = Math.min(0, ...known);
  const span = max - min || 1;
  const step = points.length > 1 ? WIDTH / (points.length - 1) : 0;
  const path = points
    .flatMap((p, i) =>
      p.value === null
        ? []
        : [`${(i * step).toFixed(1)},${(HEIGHT - ((p.value - min) / span) * HEIGHT).toFixed(1)}`],
    )
    .join(' ');
  const latest = known.at(-1);
  const minutes = Math.round(
    (Date.parse(points.at(-1)?.time ?? '') - Date.parse(points[0]?.time ?? '')) / 60_000,
  );
  const show = (n: number | undefined | null) =>
    n === undefined || n === null ? 'none' : `${n}${unit === '' ? '' : ` ${unit}`}`;
  const summary = `${label}: latest ${show(latest)}, highest ${show(known.length ? max : undefined)}, over ${points.length} samples (${minutes} min).`;
  return (
    <figure className="chart">
      <figcaption id={id}>{summary}</figcaption>
      <svg
        role="img"
        aria-labelledby={id}
        viewBox={`-2 -2 ${WIDTH + 4} ${HEIGHT + 4}`}
        width={WIDTH}
        height={HEIGHT}
      >
        <title>{summary}</title>
        <line x1={0} y1={HEIGHT} x2={WIDTH} y2={HEIGHT} className="chart-axis" />
        {points.length === 1 && latest !== undefined ? (
          <circle
            cx={0}
            cy={HEIGHT - ((latest - min) / span) * HEIGHT}
            r={2}
            className="chart-dot"
          />
        ) : (
          <polyline points={path} className="chart-line" />
        )}
      </svg>
      <details>
        <summary>Values of {label.toLowerCase()}</summary>
        <table className="table table-fit" aria-label={`Values of ${label.toLowerCase()}`}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">{label}</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.time}>
                <td>{p.time.slice(11, 19)} UTC</td>
                <td>{show(p.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
