import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDurationSeconds } from '@custos/core/duration';
import { SYSLOG_FACILITIES } from '../audit/syslog-sink.js';
import { ServerError } from '../errors.js';
import { cidrList } from '../http/client-address.js';
import { parseSealStanza, type SealStanza } from '../seal/seal-stanza.js';
import type { AwsOptions, TelemetryOptions } from '../server.js';
import { type AlertsConfig, parseAlertsConfig } from './alerts-config.js';
import { parseRotationConfig, type RotationConfig } from './rotation-config.js';

/** An audit sink in the configuration file. */
export type AuditSinkConfig =
  | ({ readonly type: 'file'; readonly path: string; readonly name?: string } & FileRotationConfig)
  | { readonly type: 'stdout'; readonly name?: string }
  | {
      readonly type: 'http';
      readonly name?: string;
      readonly url: string;
      /** Sent with every POST (credentials for the receiver: keep the file private). */
      readonly headers?: Readonly<Record<string, string>>;
      readonly timeoutMs?: number;
    }
  | {
      readonly type: 'syslog';
      readonly name?: string;
      readonly host: string;
      readonly port: number;
      readonly transport: 'tcp' | 'udp';
      readonly facility?: keyof typeof SYSLOG_FACILITIES;
      readonly appName?: string;
    };

/** Rotation and retention of a file sink (docs/operations.md, "Audit log"). */
export interface FileRotationConfig {
  /** `max_bytes`: rotate once the file holds this many bytes. */
  readonly maxBytes?: number;
  /** `max_age`: rotate once the file's first entry is this old (seconds; `"24h"`, `"7d"`). */
  readonly maxAgeSeconds?: number;
  /** `retain`: delete rotated files whose last entry is older than this many days. */
  readonly retainDays?: number;
}

/** Retention shorter than this many days is refused unless `allow_short_retention` is set. */
export const MIN_AUDIT_RETENTION_DAYS = 90;

const FILE_SINK_FIELDS = [
  'type',
  'name',
  'path',
  'max_bytes',
  'max_age',
  'retain',
  'allow_short_retention',
];

/** The `tls` section: files resolved against the configuration file's directory. */
export interface ServerTlsConfig {
  readonly cert: string;
  readonly key: string;
  /** CA bundle for client certificates. */
  readonly ca?: string;
  /** `TLSv1.2` (default) or `TLSv1.3`; lower is refused. */
  readonly minVersion?: string;
  /** OpenSSL cipher list. */
  readonly ciphers?: string;
  /** `off` (default without `ca`), `optional` (default with `ca`) or `required`. */
  readonly clientCertificates?: 'off' | 'optional' | 'required';
}

/** The production configuration (`custos server --config custos.json`). */
export interface ServerConfig {
  /** `host:port`, default `127.0.0.1:8200`. */
  readonly listen: string;
  /** A SQLite file path (or `sqlite:<path>`), or a `postgres://` URL. */
  readonly storage: string;
  readonly tls?: ServerTlsConfig;
  readonly audit: readonly AuditSinkConfig[];
  /** Largest request body in bytes (default 4 MiB). */
  readonly maxRequestBytes: number;
  /** How long a client may take to send a whole request, body included (default 60 s). */
  readonly requestTimeoutMs: number;
  /** How long a request waits for the audit log before failing (default 2000 ms). */
  readonly auditTimeoutMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** The Secrets Manager API: `pathPrefix`, `region`, `accountId` (docs/aws.md). */
  readonly aws?: AwsOptions;
  /**
   * CIDR blocks of the reverse proxies whose `X-Forwarded-For` names the client (for
   * `token_bound_cidrs` and `secret_id_bound_cidrs`); default none: the peer is the client.
   */
  readonly trustedProxies: readonly string[];
  /**
   * Host names a browser may use to change state on a server it reaches over loopback (besides
   * `localhost` and IP addresses): a reverse proxy on the same machine that passes the
   * original `Host` on names it here. Default none (http/cross-site.ts: DNS rebinding).
   */
  readonly allowedHosts: readonly string[];
  /**
   * Auto-unseal (Vault's `seal` stanza): `{"type": "transit", "address", "token", "mount_path",
   * "key_name"}` or `{"type": "pkcs11", "lib", "slot" | "token_label", "pin_file", "key_label",
   * "mechanism"}`, or a cloud KMS seal `awskms`, `azurekeyvault`, `gcpckms` (docs/operations.md;
   * `pin_file` and gcpckms `credentials` relative to the configuration file's directory).
   */
  readonly seal?: SealStanza;
  /** How long a shutdown (SIGTERM) waits for the requests in flight (default 30 000 ms). */
  readonly shutdownGraceMs: number;
  /**
   * Metrics, with Vault's names: `unauthenticated_metrics_access` (default false) and
   * `max_key_labels` (default 100); see docs/metrics.md.
   */
  readonly telemetry?: TelemetryOptions;
  /**
   * Rotation (docs/rotation.md): `scheduler_interval`, `databases` by name (passwords named by
   * `password_env` or `password_file`, never inlined) and rotator `plugins`.
   */
  readonly rotation?: RotationConfig;
  /** Alerts (docs/alerts.md): `rules`, `channels` (secrets named, never inlined), `rate_limit`. */
  readonly alerts?: AlertsConfig;
  /** The dashboard at `/ui/` (Vault's name; default true): false serves none (docs/dashboard.md). */
  readonly ui: boolean;
}

const fail = (message: string): never => {
  throw new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'];

/**
 * Validates a parsed configuration object. Relative paths are resolved against `baseDir`
 * (the configuration file's directory).
 *
 * @example
 * ```ts
 * const config = parseServerConfig({ storage: 'data/custos.db', audit: [{ type: 'stdout' }] }, '/etc/custos');
 * ```
 */
export function parseServerConfig(raw: unknown, baseDir: string): ServerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be a JSON object');
  const c = raw as Record<string, unknown>;
  const known = [
    'listen',
    'storage',
    'tls',
    'audit',
    'maxRequestBytes',
    'requestTimeoutMs',
    'auditTimeoutMs',
    'logLevel',
    'aws',
    'trustedProxies',
    'allowedHosts',
    'seal',
    'shutdownGraceMs',
    'telemetry',
    'rotation',
    'alerts',
    'ui',
  ];
  for (const key of Object.keys(c))
    if (!known.includes(key)) fail(`unknown field "${key}" (known: ${known.join(', ')})`);
  const listen = c.listen ?? '127.0.0.1:8200';
  if (typeof listen !== 'string' || !/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(listen))
    fail('"listen" must be "host:port"');
  if (typeof c.storage !== 'string' || c.storage === '')
    fail('"storage" must be a SQLite file path or a postgres:// URL');
  const storage = /^postgres(ql)?:\/\//.test(c.storage as string)
    ? (c.storage as string)
    : resolve(baseDir, (c.storage as string).replace(/^sqlite:/, ''));
  const tls = c.tls === undefined ? undefined : parseTls(c.tls, baseDir);
  const audit = (c.audit ?? []) as unknown;
  if (!Array.isArray(audit)) fail('"audit" must be a list of sinks');
  const sinks = (audit as unknown[]).map((sink, i): AuditSinkConfig => {
    const s = sink as Record<string, unknown>;
    const name = s.name === undefined ? undefined : String(s.name);
    if (s.type === 'file') {
      if (typeof s.path !== 'string') fail(`audit[${i}].path must be a file path`);
      return {
        type: 'file',
        path: resolve(baseDir, s.path as string),
        ...(name ? { name } : {}),
        ...fileRotationOf(s, `audit[${i}]`),
      };
    }
    if (s.type === 'stdout') return { type: 'stdout', ...(name ? { name } : {}) };
    if (s.type === 'http') return { ...httpSinkOf(s, `audit[${i}]`), ...(name ? { name } : {}) };
    if (s.type === 'syslog')
      return { ...syslogSinkOf(s, `audit[${i}]`), ...(name ? { name } : {}) };
    return fail(`audit[${i}].type must be "file", "stdout", "http" or "syslog"`);
  });
  const names = sinks.map((s, i) => s.name ?? defaultSinkName(s, i));
  if (new Set(names).size !== names.length) fail('audit sinks need distinct names');
  const positive = (value: unknown, field: string, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || (value as number) <= 0)
      fail(`"${field}" must be a positive integer`);
    return value as number;
  };
  const logLevel = c.logLevel ?? 'info';
  if (typeof logLevel !== 'string' || !LOG_LEVELS.includes(logLevel))
    fail(`"logLevel" must be one of ${LOG_LEVELS.join(', ')}`);
  const aws = awsOf(c.aws);
  const allowedHosts = c.allowedHosts ?? [];
  if (
    !Array.isArray(allowedHosts) ||
    allowedHosts.some((h) => typeof h !== 'string' || !HOST_NAME.test(h))
  )
    fail('"allowedHosts" must be a list of host names (no port, no scheme)');
  const trustedProxies = c.trustedProxies ?? [];
  if (!Array.isArray(trustedProxies) || trustedProxies.some((p) => typeof p !== 'string'))
    fail('"trustedProxies" must be a list of CIDR blocks');
  try {
    cidrList(trustedProxies as string[], 'trustedProxies');
  } catch (err) {
    fail((err as Error).message);
  }
  const parsedSeal = c.seal === undefined ? undefined : parseSealStanza(c.seal);
  const seal =
    parsedSeal?.type === 'pkcs11' && parsedSeal.pin_file !== undefined
      ? { ...parsedSeal, pin_file: resolve(baseDir, parsedSeal.pin_file) }
      : parsedSeal?.type === 'gcpckms' && parsedSeal.credentials !== undefined
        ? { ...parsedSeal, credentials: resolve(baseDir, parsedSeal.credentials) }
        : parsedSeal;
  const telemetry = telemetryOf(c.telemetry);
  const rotation = c.rotation === undefined ? undefined : parseRotationConfig(c.rotation, baseDir);
  const alerts = c.alerts === undefined ? undefined : parseAlertsConfig(c.alerts, baseDir);
  const ui = c.ui === undefined ? true : c.ui;
  if (typeof ui !== 'boolean') fail('"ui" must be true or false');
  return {
    ...(aws === undefined ? {} : { aws }),
    ...(telemetry === undefined ? {} : { telemetry }),
    ...(rotation === undefined ? {} : { rotation }),
    ...(alerts === undefined ? {} : { alerts }),
    ...(seal === undefined ? {} : { seal }),
    listen: listen as string,
    storage,
    ...(tls ? { tls } : {}),
    audit: sinks.map((s, i) => ({ ...s, name: names[i] as string })),
    maxRequestBytes: positive(c.maxRequestBytes, 'maxRequestBytes', 4 * 1024 * 1024),
    requestTimeoutMs: positive(c.requestTimeoutMs, 'requestTimeoutMs', 60_000),
    auditTimeoutMs: positive(c.auditTimeoutMs, 'auditTimeoutMs', 2000),
    logLevel: logLevel as ServerConfig['logLevel'],
    trustedProxies: trustedProxies as string[],
    allowedHosts: (allowedHosts as string[]).map((h) => h.toLowerCase()),
    shutdownGraceMs: positive(c.shutdownGraceMs, 'shutdownGraceMs', 30_000),
    ui: ui as boolean,
  };
}

/** A sink's name when the configuration gives none: `file`, `file1`…, `stdout`, `http`, `syslog`. */
export function defaultSinkName(sink: AuditSinkConfig, index: number): string {
  return sink.type === 'file' ? `file${index === 0 ? '' : index}` : sink.type;
}

function knownFields(s: Record<string, unknown>, where: string, fields: readonly string[]): void {
  for (const key of Object.keys(s))
    if (!fields.includes(key)) fail(`unknown field ${where}.${key} (known: ${fields.join(', ')})`);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A DNS name: dot-separated labels of letters, digits and hyphens. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function httpSinkOf(s: Record<string, unknown>, where: string): AuditSinkConfig {
  knownFields(s, where, ['type', 'name', 'url', 'headers', 'timeout_ms', 'allow_insecure_http']);
  let url: URL | undefined;
  try {
    url = new URL(String(s.url));
  } catch {
    fail(`${where}.url must be an http(s) URL`);
  }
  const u = url as URL;
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    fail(`${where}.url must be an http(s) URL`);
  if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname) && s.allow_insecure_http !== true)
    fail(
      `${where}.url is plain http to another host: audit entries would cross the network in the clear; use https (or "allow_insecure_http": true)`,
    );
  const headers = s.headers ?? {};
  if (
    typeof headers !== 'object' ||
    headers === null ||
    Array.isArray(headers) ||
    Object.values(headers).some((v) => typeof v !== 'string')
  )
    fail(`${where}.headers must map header names to strings`);
  const timeout = s.timeout_ms;
  if (timeout !== undefined && (!Number.isSafeInteger(timeout) || (timeout as number) <= 0))
    fail(`${where}.timeout_ms must be a positive whole number of milliseconds`);
  return {
    type: 'http',
    url: u.href,
    headers: headers as Record<string, string>,
    ...(timeout === undefined ? {} : { timeoutMs: timeout as number }),
  };
}

function syslogSinkOf(s: Record<string, unknown>, where: string): AuditSinkConfig {
  knownFields(s, where, ['type', 'name', 'address', 'transport', 'facility', 'app_name']);
  const match = typeof s.address === 'string' ? /^(.+):(\d{1,5})$/.exec(s.address) : null;
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) fail(`${where}.address must be "host:port"`);
  const transport = s.transport ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'udp') fail(`${where}.transport must be "tcp" or "udp"`);
  const facility = s.facility ?? 'local0';
  if (typeof facility !== 'string' || !Object.hasOwn(SYSLOG_FACILITIES, facility))
    fail(`${where}.facility must be one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}`);
  const appName = s.app_name ?? 'custos';
  if (typeof appName !== 'string' || !/^[!-~]{1,48}$/.test(appName))
    fail(`${where}.app_name must be 1 to 48 printable ASCII characters without spaces`);
  return {
    type: 'syslog',
    host: String(match?.[1]).replace(/^\[(.*)\]$/, '$1'),
    port,
    transport: transport as 'tcp' | 'udp',
    facility: facility as keyof typeof SYSLOG_FACILITIES,
    appName: appName as string,
  };
}

/** The rotation and retention fields of a file sink, checked. */
function fileRotationOf(s: Record<string, unknown>, where: string): FileRotationConfig {
  knownFields(s, where, FILE_SINK_FIELDS);
  const out: { maxBytes?: number; maxAgeSeconds?: number; retainDays?: number } = {};
  if (s.max_bytes !== undefined) {
    if (!Number.isSafeInteger(s.max_bytes) || (s.max_bytes as number) < 4096)
      fail(`${where}.max_bytes must be a whole number of bytes, at least 4096`);
    out.maxBytes = s.max_bytes as number;
  }
  if (s.max_age !== undefined) {
    let seconds = 0;
    try {
      seconds = parseDurationSeconds(s.max_age, `${where}.max_age`);
    } catch (err) {
      fail((err as Error).message);
    }
    if (seconds < 60) fail(`${where}.max_age must be at least 60 s`);
    out.maxAgeSeconds = seconds;
  }
  if (s.allow_short_retention !== undefined && typeof s.allow_short_retention !== 'boolean')
    fail(`${where}.allow_short_retention must be true or false`);
  if (s.retain !== undefined) {
    if (!Number.isSafeInteger(s.retain) || (s.retain as number) < 1)
      fail(`${where}.retain must be a whole number of days, at least 1`);
    if ((s.retain as number) < MIN_AUDIT_RETENTION_DAYS && s.allow_short_retention !== true)
      fail(
        `${where}.retain is ${s.retain} days, below the ${MIN_AUDIT_RETENTION_DAYS} days audit logs are commonly kept for; set "allow_short_retention": true to keep them shorter`,
      );
    out.retainDays = s.retain as number;
  }
  return out;
}

const TLS_FIELDS = ['cert', 'key', 'ca', 'minVersion', 'ciphers', 'clientCertificates'];

function parseTls(raw: unknown, baseDir: string): ServerTlsConfig {
  const t = raw as Record<string, unknown>;
  if (
    typeof t !== 'object' ||
    t === null ||
    Array.isArray(t) ||
    typeof t.cert !== 'string' ||
    typeof t.key !== 'string'
  ) {
    fail('"tls" must be {"cert": "<file>", "key": "<file>"}');
  }
  for (const key of Object.keys(t))
    if (!TLS_FIELDS.includes(key))
      fail(`unknown field "tls.${key}" (known: ${TLS_FIELDS.join(', ')})`);
  const text = (field: string) => {
    const value = t[field];
    if (value === undefined) return {};
    if (typeof value !== 'string' || value === '') fail(`"tls.${field}" must be a string`);
    return { [field]: value as string };
  };
  const minVersion = t.minVersion;
  if (minVersion !== undefined && minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3')
    fail('"tls.minVersion" must be "TLSv1.2" or "TLSv1.3" (TLS below 1.2 is refused)');
  const clients = t.clientCertificates;
  if (clients !== undefined && !['off', 'optional', 'required'].includes(clients as string))
    fail('"tls.clientCertificates" must be "off", "optional" or "required"');
  if (clients !== undefined && clients !== 'off' && t.ca === undefined)
    fail('"tls.clientCertificates" needs "tls.ca", the CA bundle of the client certificates');
  return {
    cert: resolve(baseDir, t.cert as string),
    key: resolve(baseDir, t.key as string),
    ...(typeof t.ca === 'string' ? { ca: resolve(baseDir, t.ca) } : text('ca')),
    ...text('minVersion'),
    ...text('ciphers'),
    ...(clients === undefined ? {} : { clientCertificates: clients as 'off' }),
  } as ServerTlsConfig;
}

/** The `aws` block: string fields only (startServer checks their forms). */
function awsOf(value: unknown): AwsOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('"aws" must be {"pathPrefix"?, "region"?, "accountId"?}');
  const out: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!['pathPrefix', 'region', 'accountId'].includes(key))
      fail(`unknown field "aws.${key}" (known: pathPrefix, region, accountId)`);
    if (typeof field !== 'string') fail(`"aws.${key}" must be a string`);
    out[key] = field as string;
  }
  return out as AwsOptions;
}

/** The `telemetry` block: `unauthenticated_metrics_access` (boolean), `max_key_labels`. */
function telemetryOf(value: unknown): TelemetryOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('"telemetry" must be {"unauthenticated_metrics_access"?, "max_key_labels"?}');
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t))
    if (!['unauthenticated_metrics_access', 'max_key_labels'].includes(key))
      fail(
        `unknown field "telemetry.${key}" (known: unauthenticated_metrics_access, max_key_labels)`,
      );
  const open = t.unauthenticated_metrics_access;
  if (open !== undefined && typeof open !== 'boolean')
    fail('"telemetry.unauthenticated_metrics_access" must be true or false');
  const max = t.max_key_labels;
  if (
    max !== undefined &&
    (!Number.isInteger(max) || (max as number) < 0 || (max as number) > 10_000)
  )
    fail('"telemetry.max_key_labels" must be an integer from 0 to 10000');
  return {
    ...(open === undefined ? {} : { unauthenticated_metrics_access: open as boolean }),
    ...(max === undefined ? {} : { max_key_labels: max as number }),
  };
}

/** Reads and validates a configuration file. */
export async function readServerConfig(path: string): Promise<ServerConfig> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) =>
    fail(`cannot read ${path}: ${err.code ?? err.message}`),
  );
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail(`${path} is not valid JSON`);
  }
  return parseServerConfig(raw, dirname(resolve(path)));
}

/** Splits `host:port` (IPv6 in brackets). */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (match === null) return fail('"listen" must be "host:port"');
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}
