import { resolve } from 'node:path';
import { lazily, zod } from '@custos/core/internal/lazy-zod';
import type { z } from 'zod';
import { ServerError } from '../errors.js';
import { parseDurationSeconds } from '../lib/duration.js';

/** Where a channel's secret comes from: never the configuration file itself. */
export type AlertSecretSource = { readonly env: string } | { readonly file: string };

/** The event an alert rule watches, with its thresholds. */
export type AlertEvent =
  | { readonly kind: 'auth_failure_spike'; readonly threshold: number; readonly windowMs: number }
  | { readonly kind: 'decryption_failures'; readonly threshold: number; readonly windowMs: number }
  | { readonly kind: 'rotation_failed' }
  | { readonly kind: 'rotation_overdue' }
  | { readonly kind: 'certificate_expiring'; readonly days: number }
  | { readonly kind: 'audit_sink_failing' }
  | { readonly kind: 'node_sealed' };

/** One alert rule: a name, the event it watches and the channels it goes to. */
export interface AlertRule {
  readonly name: string;
  readonly event: AlertEvent;
  readonly channels: readonly string[];
}

/**
 * How an email channel protects its SMTP connection: `starttls` (default; the server must offer
 * STARTTLS, or nothing is sent), `tls` (TLS from the first byte, port 465) or `none` (a local
 * relay only; refused with a password).
 */
export type SmtpSecurity = 'starttls' | 'tls' | 'none';

/** A delivery channel: a signed webhook or an SMTP email. */
export type AlertChannel =
  | {
      readonly type: 'webhook';
      /** The URL, or where it is read (a chat tool's incoming-webhook URL is itself a secret). */
      readonly url: string | AlertSecretSource;
      readonly secret: AlertSecretSource;
    }
  | {
      readonly type: 'email';
      readonly host: string;
      readonly port: number;
      readonly security: SmtpSecurity;
      /** CA certificates (PEM) the SMTP server's certificate is checked against, instead of Node's. */
      readonly caFile?: string;
      readonly from: string;
      readonly to: readonly string[];
      readonly username?: string;
      readonly password?: AlertSecretSource;
    };

/** The `alerts` section of the configuration file, checked and resolved. */
export interface AlertsConfig {
  readonly rules: readonly AlertRule[];
  readonly channels: Readonly<Record<string, AlertChannel>>;
  /** At most one alert per rule per this many ms. */
  readonly rateLimitMs: number;
  /** How often the seal state, overdue rotations and certificate expiry are checked (ms). */
  readonly checkIntervalMs: number;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const DEFAULT_RATE_LIMIT_MS = 5 * 60_000;
const DEFAULT_CHECK_INTERVAL_MS = 60_000;
const SMTP_PORTS: Readonly<Record<SmtpSecurity, number>> = { starttls: 587, tls: 465, none: 25 };

/** The section's schemas, built at the first parse (lazy-zod.ts). */
const schemas = lazily(() => {
  const z = zod();
  const rule = z
    .object({
      name: z.string().regex(NAME, 'a rule name is lower-case letters, digits, _ and -'),
      event: z.enum([
        'auth_failure_spike',
        'decryption_failures',
        'rotation_failed',
        'rotation_overdue',
        'certificate_expiring',
        'audit_sink_failing',
        'node_sealed',
      ]),
      threshold: z.number().int().min(1).max(1_000_000).optional(),
      window: z.union([z.string(), z.number()]).optional(),
      days: z.number().int().min(1).max(3650).optional(),
      channels: z.array(z.string()).min(1).max(16),
    })
    .strict();

  const channel = z
    .object({
      type: z.enum(['webhook', 'email']),
      url: z.string().optional(),
      url_env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
      url_file: z.string().min(1).optional(),
      secret: z.unknown().optional(),
      secret_env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
      secret_file: z.string().min(1).optional(),
      host: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65_535).optional(),
      security: z.enum(['starttls', 'tls', 'none']).optional(),
      ca_file: z.string().min(1).optional(),
      from: z.string().min(3).optional(),
      to: z.array(z.string().min(3)).min(1).max(32).optional(),
      username: z.string().min(1).optional(),
      password: z.unknown().optional(),
      password_env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
      password_file: z.string().min(1).optional(),
    })
    .strict();

  const alerts = z
    .object({
      rules: z.array(rule).max(256).optional(),
      channels: z.record(z.string(), channel).optional(),
      rate_limit: z.union([z.string(), z.number()]).optional(),
      check_interval: z.union([z.string(), z.number()]).optional(),
    })
    .strict();
  return { rule, channel, alerts };
});

type RuleInput = z.infer<ReturnType<typeof schemas>['rule']>;
type ChannelInput = z.infer<ReturnType<typeof schemas>['channel']>;

/**
 * Why a webhook URL is refused (`must be an http(s) URL`, `must not hold credentials`), or
 * undefined. Never quotes the URL: a chat tool's incoming-webhook URL is a secret.
 *
 * @example
 * ```ts
 * webhookUrlProblem('ftp://x.example'); // 'must be an http(s) URL'
 * ```
 */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an http(s) URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (url.username !== '' || url.password !== '') return 'must not hold credentials';
  return undefined;
}

const fail = (message: string): never => {
  throw new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
};

/** The first problem zod found, as `alerts.<path>: <message>`. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return '"alerts" is not valid';
  const path = ['alerts', ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys')
    return `unknown field "${path}.${issue.keys.join('", "')}"`;
  return `"${path}": ${issue.message}`;
}

function durationMs(value: string | number, at: string, min: number, max: number): number {
  let seconds = 0;
  try {
    seconds = parseDurationSeconds(value, at);
  } catch {
    fail(`"${at}" must be a duration such as "60s" or "5m"`);
  }
  if (seconds < min || seconds > max) fail(`"${at}" must be between ${min}s and ${max}s`);
  return seconds * 1000;
}

/** A secret named by `<field>_env` or `<field>_file`; an inline value is refused. */
function secretOf(
  at: string,
  field: 'secret' | 'password',
  inline: unknown,
  env: string | undefined,
  file: string | undefined,
  baseDir: string,
): AlertSecretSource | undefined {
  if (inline !== undefined)
    fail(
      `"${at}.${field}": a ${field} is never written in the configuration file; name it with "${field}_env" or "${field}_file"`,
    );
  if (env !== undefined && file !== undefined)
    fail(`"${at}": give "${field}_env" or "${field}_file", not both`);
  if (env !== undefined) return { env };
  if (file !== undefined) return { file: resolve(baseDir, file) };
  return undefined;
}

function channelOf(name: string, raw: ChannelInput, baseDir: string): AlertChannel {
  const at = `alerts.channels.${name}`;
  if (!NAME.test(name))
    fail(`"${at}": a channel name is lower-case letters, digits, _ and - (at most 64)`);
  if (raw.type === 'webhook') {
    for (const key of ['host', 'port', 'security', 'ca_file', 'from', 'to', 'username'] as const)
      if (raw[key] !== undefined) fail(`"${at}.${key}" belongs to an email channel`);
    if (
      raw.password !== undefined ||
      raw.password_env !== undefined ||
      raw.password_file !== undefined
    )
      fail(`"${at}": a webhook is signed with "secret_env" or "secret_file", not a password`);
    const given = [raw.url, raw.url_env, raw.url_file].filter((v) => v !== undefined).length;
    if (given !== 1) fail(`"${at}": give one of "url", "url_env" or "url_file"`);
    let url: string | AlertSecretSource;
    if (raw.url !== undefined) {
      const problem = webhookUrlProblem(raw.url);
      if (problem !== undefined) fail(`"${at}.url" ${problem}`);
      url = new URL(raw.url).toString();
    } else if (raw.url_env !== undefined) url = { env: raw.url_env };
    else url = { file: resolve(baseDir, raw.url_file as string) };
    const secret = secretOf(at, 'secret', raw.secret, raw.secret_env, raw.secret_file, baseDir);
    if (secret === undefined)
      return fail(`"${at}": a webhook needs its signing secret, by "secret_env" or "secret_file"`);
    return { type: 'webhook', url, secret };
  }
  for (const key of ['url', 'url_env', 'url_file'] as const)
    if (raw[key] !== undefined) fail(`"${at}.${key}" belongs to a webhook channel`);
  if (raw.secret !== undefined || raw.secret_env !== undefined || raw.secret_file !== undefined)
    fail(`"${at}": an email channel takes "password_env" or "password_file", not a secret`);
  if (raw.host === undefined) fail(`"${at}.host" is required (the SMTP server)`);
  if (raw.from === undefined) fail(`"${at}.from" is required`);
  if (raw.to === undefined) fail(`"${at}.to" is required (a list of addresses)`);
  const password = secretOf(
    at,
    'password',
    raw.password,
    raw.password_env,
    raw.password_file,
    baseDir,
  );
  if (password !== undefined && raw.username === undefined)
    fail(`"${at}": a password needs a "username"`);
  if (password === undefined && raw.username !== undefined)
    fail(`"${at}": a username needs its password, by "password_env" or "password_file"`);
  const security = raw.security ?? 'starttls';
  if (security === 'none' && password !== undefined)
    fail(
      `"${at}": a password is never sent over an unencrypted connection; use "starttls" or "tls"`,
    );
  if (security === 'none' && raw.ca_file !== undefined)
    fail(`"${at}.ca_file" needs "security" "starttls" or "tls"`);
  return {
    type: 'email',
    host: raw.host as string,
    port: raw.port ?? SMTP_PORTS[security],
    security,
    ...(raw.ca_file === undefined ? {} : { caFile: resolve(baseDir, raw.ca_file) }),
    from: raw.from as string,
    to: raw.to as string[],
    ...(raw.username === undefined ? {} : { username: raw.username }),
    ...(password === undefined ? {} : { password }),
  };
}

function eventOf(at: string, raw: RuleInput): AlertEvent {
  const spike = raw.event === 'auth_failure_spike' || raw.event === 'decryption_failures';
  if (!spike && (raw.threshold !== undefined || raw.window !== undefined))
    fail(`"${at}": "threshold" and "window" belong to auth_failure_spike and decryption_failures`);
  if (raw.event !== 'certificate_expiring' && raw.days !== undefined)
    fail(`"${at}.days" belongs to certificate_expiring`);
  if (raw.event === 'auth_failure_spike' || raw.event === 'decryption_failures') {
    if (raw.threshold === undefined) fail(`"${at}.threshold" is required for ${raw.event}`);
    if (raw.window === undefined) fail(`"${at}.window" is required for ${raw.event}`);
    return {
      kind: raw.event,
      threshold: raw.threshold as number,
      windowMs: durationMs(raw.window as string | number, `${at}.window`, 1, 86_400),
    };
  }
  if (raw.event === 'certificate_expiring') {
    if (raw.days === undefined) fail(`"${at}.days" is required for certificate_expiring`);
    return { kind: raw.event, days: raw.days as number };
  }
  return { kind: raw.event };
}

/**
 * Checks the configuration file's `alerts` section: `rules` (a name, an `event` with its
 * thresholds, the `channels` it goes to), `channels` by name (`webhook`: `url` (or
 * `url_env`/`url_file`, for a URL that is itself a secret) and a signing
 * secret named by `secret_env`/`secret_file`; `email`: SMTP `host`, `port`, `security`
 * (`starttls` by default, `tls`, `none`), `ca_file`, `from`, `to`, a password named by
 * `password_env`/`password_file`), `rate_limit` (a duration, default 5m) and `check_interval`
 * (how often state is checked, default 1m). Secrets are never inlined. A problem is
 * `ERR_INVALID_CONFIG` naming the field.
 *
 * @example
 * ```ts
 * const alerts = parseAlertsConfig(
 *   {
 *     channels: { ops: { type: 'webhook', url: 'https://hooks.example/x', secret_env: 'ALERT_HMAC' } },
 *     rules: [{ name: 'logins', event: 'auth_failure_spike', threshold: 20, window: '1m', channels: ['ops'] }],
 *   },
 *   '/etc/custos',
 * );
 * ```
 */
export function parseAlertsConfig(raw: unknown, baseDir: string): AlertsConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('"alerts" must be an object: {"rules"?, "channels"?, "rate_limit"?, "check_interval"?}');
  const checked = schemas().alerts.safeParse(raw);
  if (!checked.success) return fail(firstIssue(checked.error));
  const {
    rules = [],
    channels = {},
    rate_limit: rateLimit,
    check_interval: checkInterval,
  } = checked.data;
  const resolvedChannels = Object.fromEntries(
    Object.entries(channels).map(([name, c]) => [name, channelOf(name, c, baseDir)]),
  );
  const seen = new Set<string>();
  const resolvedRules = rules.map((rule, i) => {
    const at = `alerts.rules.${i}`;
    if (seen.has(rule.name)) fail(`"${at}.name": the rule "${rule.name}" is named twice`);
    seen.add(rule.name);
    for (const channel of rule.channels)
      if (!Object.hasOwn(resolvedChannels, channel))
        fail(`"${at}.channels": no channel named "${channel}" in "alerts.channels"`);
    if (new Set(rule.channels).size !== rule.channels.length)
      fail(`"${at}.channels" names a channel twice`);
    return { name: rule.name, event: eventOf(at, rule), channels: rule.channels };
  });
  return {
    rules: resolvedRules,
    channels: resolvedChannels,
    rateLimitMs:
      rateLimit === undefined
        ? DEFAULT_RATE_LIMIT_MS
        : durationMs(rateLimit, 'alerts.rate_limit', 1, 7 * 86_400),
    checkIntervalMs:
      checkInterval === undefined
        ? DEFAULT_CHECK_INTERVAL_MS
        : durationMs(checkInterval, 'alerts.check_interval', 1, 86_400),
  };
}
