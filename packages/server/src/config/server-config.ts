import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ServerError } from '../errors.js';
import { cidrList } from '../http/client-address.js';
import { parseSealStanza, type SealStanza } from '../seal/seal-stanza.js';
import type { AwsOptions } from '../server.js';
import { parseRotationConfig, type RotationConfig } from './rotation-config.js';

/** An audit sink in the configuration file. */
export type AuditSinkConfig =
  | { readonly type: 'file'; readonly path: string; readonly name?: string }
  | { readonly type: 'stdout'; readonly name?: string };

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
   * Auto-unseal (Vault's `seal` stanza): `{"type": "transit", "address", "token", "mount_path",
   * "key_name"}` or `{"type": "pkcs11", "lib", "slot" | "token_label", "pin_file", "key_label",
   * "mechanism"}` (`pin_file` relative to the configuration file's directory).
   */
  readonly seal?: SealStanza;
  /** How long a shutdown (SIGTERM) waits for the requests in flight (default 30 000 ms). */
  readonly shutdownGraceMs: number;
  /**
   * Rotation (docs/rotation.md): `scheduler_interval`, `databases` by name (passwords named by
   * `password_env` or `password_file`, never inlined) and rotator `plugins`.
   */
  readonly rotation?: RotationConfig;
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
    'auditTimeoutMs',
    'logLevel',
    'aws',
    'trustedProxies',
    'seal',
    'shutdownGraceMs',
    'rotation',
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
      return { type: 'file', path: resolve(baseDir, s.path as string), ...(name ? { name } : {}) };
    }
    if (s.type === 'stdout') return { type: 'stdout', ...(name ? { name } : {}) };
    return fail(`audit[${i}].type must be "file" or "stdout"`);
  });
  const names = sinks.map(
    (s, i) => s.name ?? (s.type === 'file' ? `file${i === 0 ? '' : i}` : 'stdout'),
  );
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
      : parsedSeal;
  const rotation = c.rotation === undefined ? undefined : parseRotationConfig(c.rotation, baseDir);
  return {
    ...(aws === undefined ? {} : { aws }),
    ...(rotation === undefined ? {} : { rotation }),
    ...(seal === undefined ? {} : { seal }),
    listen: listen as string,
    storage,
    ...(tls ? { tls } : {}),
    audit: sinks.map((s, i) => ({ ...s, name: names[i] as string })),
    maxRequestBytes: positive(c.maxRequestBytes, 'maxRequestBytes', 4 * 1024 * 1024),
    auditTimeoutMs: positive(c.auditTimeoutMs, 'auditTimeoutMs', 2000),
    logLevel: logLevel as ServerConfig['logLevel'],
    trustedProxies: trustedProxies as string[],
    shutdownGraceMs: positive(c.shutdownGraceMs, 'shutdownGraceMs', 30_000),
  };
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
