import { CustosError, isCustosError } from '../errors/index.js';
import type { MetricsHooks } from '../metrics/hooks.js';
import { defaultScrubber, type Scrubber } from '../redaction/scrubber.js';
import { Secret } from '../redaction/secret.js';
import { type CacheEntry, SecretCache } from './cache.js';
import { chain } from './chain.js';
import { formatProblem, SecretMissing, SecretsInvalid, WeakSecret } from './problems.js';
import {
  defaultEnvironment,
  type Environment,
  emitWarning,
  type SecretProvider,
  type SecretStage,
  type WarningListener,
} from './provider.js';
import { dotenvFiles } from './provider-dotenv.js';
import { processEnv } from './provider-env.js';
import { registerReadValue } from './register-values.js';
import { resolveRule, type SecretRule } from './rules.js';
import type { SchemaOutput, SchemaShape, SecretsSchema } from './schema.js';
import { backendProviders } from './secrets-backend.js';
import { checkValue, validateRules } from './validate.js';

/** Options of {@link createSecrets}. */
export interface SecretsOptions {
  /**
   * Where values come from, highest precedence first: the first provider holding a name wins.
   * Default: the chain `SECRETS_BACKEND` names (`backendProviders`), else
   * `[processEnv(), dotenvFiles({ mode: environment })]`, which production refuses
   * (the plain process environment): name production providers explicitly.
   */
  readonly providers?: readonly SecretProvider[];
  /** How long a value is served from memory (default 300, at most 7 days; 0 asks every time). */
  readonly cacheTtlSeconds?: number;
  /** How long past the TTL the last good value covers a failing provider (default 86,400). */
  readonly staleIfErrorSeconds?: number;
  /** `production` turns on the production gate. Default `NODE_ENV`, else `development`. */
  readonly environment?: Environment;
  /** Weak values in development, stale values served, readable secret files. */
  readonly onWarning?: WarningListener;
  /** Scrubber every loaded secret is registered with; default the process-wide one. */
  readonly scrubber?: Scrubber;
  /**
   * Counts cache hits and misses, and values a refresh found changed as rotations
   * (`@custos/core/metrics`); default none.
   */
  readonly metrics?: MetricsHooks;
}

/** The secrets SDK: cached, validated, redacted access to configuration. */
export interface Secrets {
  readonly environment: Environment;
  /** Whether the production gate is on. */
  readonly production: boolean;
  /**
   * The value of `name`, or `ERR_SECRET_MISSING`. Checked once per value against `rule` (or, by
   * default, the blacklist of weak, placeholder and development values): in production a
   * failure throws `ERR_WEAK_SECRET`, in development it warns.
   */
  getRequiredSecret(name: string, rule?: SecretRule<unknown>): Promise<Secret<string>>;
  /** Like {@link Secrets.getRequiredSecret}, but `undefined` when no provider holds `name`. */
  getOptionalSecret(name: string, rule?: SecretRule<unknown>): Promise<Secret<string> | undefined>;
  /**
   * The value of `name` in a staging label of a rotated secret, or `undefined` when no provider
   * holds it. `stage: 'current'` (the default) is {@link Secrets.getOptionalSecret}; `previous`
   * (the value a rotation replaced, still valid during its grace window) and `pending` are read
   * from the providers that keep versions (the custos server's KV), uncached, and registered
   * with the scrubber. No such provider: `ERR_INVALID_ARGUMENT`.
   *
   * @example
   * ```ts
   * const old = await secrets.getSecret('WEBHOOK_SECRET', { stage: 'previous' });
   * ```
   */
  getSecret(
    name: string,
    options?: { readonly stage?: SecretStage },
  ): Promise<Secret<string> | undefined>;
  /**
   * Reads every variable of `schema` and validates them together. Fails once with
   * `ERR_SECRETS_INVALID` listing every problem; returns the typed values.
   */
  load<S extends SchemaShape>(schema: SecretsSchema<S>): Promise<SchemaOutput<S>>;
  /**
   * Calls `listener` when the value of `name` changes (refreshed every TTL, and at once when a
   * provider can watch). Returns the function that removes the listener.
   */
  onChange(name: string, listener: (value: Secret<string> | undefined) => void): () => void;
  /** Stops timers and watchers. */
  close(): void;
}

const BASELINE_RULE = resolveRule({ minBytes: 0, minEntropyBits: 0 });

/**
 * Creates the secrets SDK over a chain of providers, with a cache (TTL, single-flight,
 * refresh-ahead, stale-if-error, change events), validation and the production gate. Every
 * value handed out is registered with the scrubber, and every error passes through it.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({
 *   providers: [secretFiles(), dotenvFiles({ mode: 'production' })],
 *   environment: 'production',
 * });
 * const dbPassword = await secrets.getRequiredSecret('DB_PASSWORD');
 * pool.connect({ password: dbPassword.reveal() });
 * const slackWebhook = await secrets.getOptionalSecret('SLACK_WEBHOOK_URL');
 * ```
 */
export function createSecrets(options: SecretsOptions = {}): Secrets {
  const environment = options.environment ?? defaultEnvironment();
  const production = environment === 'production';
  const providers = options.providers ??
    backendProviders({ environment }) ?? [processEnv(), dotenvFiles({ mode: environment })];
  const scrubber = options.scrubber ?? defaultScrubber;
  const { metrics } = options;
  const warn = options.onWarning ?? emitWarning;
  // Timers cap the TTL: setTimeout takes at most 2^31 - 1 ms (about 24.8 days).
  const ttlMs = seconds(options.cacheTtlSeconds ?? 300, 'cacheTtlSeconds', 604_800) * 1000;
  const staleMs =
    seconds(options.staleIfErrorSeconds ?? 86_400, 'staleIfErrorSeconds', 31_536_000) * 1000;
  if (production) refuseInsecureProviders(providers);
  const source = chain(providers);
  const providerNames = providers.map((p) => p.name);
  const listeners = new Map<string, Set<(value: Secret<string> | undefined) => void>>();
  let timer: NodeJS.Timeout | undefined;
  let stopWatching: (() => void) | undefined;
  // Once closed, no read (a refresh still in flight, a late caller) starts watching again.
  let closed = false;

  const scrub = <E>(error: E): E => scrubber.redactError(error);
  // A plain setting can still carry a credential: DATABASE_URL's password, a webhook URL.
  const registerUrlSecrets = (value: string | undefined) => {
    if (value !== undefined) registerReadValue(scrubber, value, false);
  };
  const prepare = (entry: CacheEntry): Secret<string> | undefined => {
    if (entry.value === undefined || entry.value === '') return undefined;
    if (entry.secret === undefined) {
      scrubber.add(entry.value);
      entry.secret = new Secret(entry.value);
      entry.resolved = Promise.resolve(entry.secret);
      entry.checked = new WeakSet();
    }
    return entry.secret;
  };

  const cache = new SecretCache({
    ttlMs,
    staleIfErrorMs: staleMs,
    fetch: (name) => {
      // Changes are watched from the first read on (providers that push: files, dotenv,
      // vaultKv with `watch`), so a cached value is refreshed when its store changes.
      if (!closed) stopWatching ??= source.watch?.(reloadWatched);
      return source.get(name);
    },
    onChange(name, entry) {
      metrics?.rotation('secret_value');
      const value = prepare(entry);
      for (const listener of listeners.get(name) ?? []) {
        try {
          listener(value);
        } catch (err) {
          warn(scrubber.redact(`onChange listener for ${name} threw: ${describe(err)}`));
        }
      }
    },
    onStale(name, error) {
      warn(scrubber.redact(`serving the last good value of ${name}: ${describe(error)}`));
    },
    ...(metrics === undefined
      ? {}
      : {
          onLookup: (hit: boolean) => (hit ? metrics.secretCacheHit() : metrics.secretCacheMiss()),
        }),
  });

  const slowGet = async (
    name: string,
    rule: SecretRule<unknown> | undefined,
    required: boolean,
  ) => {
    let entry: CacheEntry;
    try {
      entry = await cache.get(name);
    } catch (err) {
      throw scrub(err);
    }
    const value = prepare(entry);
    if (value === undefined) {
      if (required) throw scrub(new SecretMissing(name, providerNames));
      return undefined;
    }
    const key = rule ?? BASELINE_RULE;
    if (!entry.checked?.has(key)) {
      const result = checkValue(name, value.reveal(), rule?.rule ?? BASELINE_RULE, production);
      if (result.errors.length > 0) throw scrub(new WeakSecret(result.errors));
      for (const warning of result.warnings) warn(formatProblem(warning));
      entry.checked?.add(key);
    }
    return value;
  };

  // A pushed change reloads the names watched and the names cached (a value read once is
  // refreshed at the change, not at its TTL).
  const reloadWatched = (names: readonly string[]) => {
    for (const name of names) {
      if (listeners.has(name) || cache.has(name)) {
        cache.reload(name).catch((err) => warn(scrubber.redact(describe(err))));
      }
    }
  };

  const getOptional = (name: string, rule?: SecretRule<unknown>) => {
    const entry = cache.peek(name);
    if (entry?.resolved !== undefined && entry.checked?.has(rule ?? BASELINE_RULE)) {
      metrics?.secretCacheHit();
      return entry.resolved;
    }
    return slowGet(name, rule, false);
  };

  return {
    environment,
    production,
    getRequiredSecret(name, rule) {
      const entry = cache.peek(name);
      if (entry?.resolved !== undefined && entry.checked?.has(rule ?? BASELINE_RULE)) {
        metrics?.secretCacheHit();
        return entry.resolved;
      }
      return slowGet(name, rule, true) as Promise<Secret<string>>;
    },
    getOptionalSecret: getOptional,
    async getSecret(name, options = {}) {
      const stage = options.stage ?? 'current';
      if (stage === 'current') return getOptional(name);
      if (stage !== 'previous' && stage !== 'pending')
        throw new CustosError('ERR_INVALID_ARGUMENT', 'stage must be current, previous or pending');
      if (source.getStaged === undefined)
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `no provider keeps staged versions (${providerNames.join(', ')}): read ${stage} values from the custos server (vaultKv)`,
        );
      let value: string | undefined;
      try {
        value = await source.getStaged(name, stage);
      } catch (err) {
        throw scrub(err);
      }
      if (value === undefined || value === '') return undefined;
      scrubber.add(value);
      return new Secret(value);
    },
    async load(schema) {
      const values = new Map<string, string | undefined>();
      const unreadable = new Map<string, string>();
      await Promise.all(
        schema.names.map(async (name) => {
          try {
            const entry = await cache.get(name);
            values.set(name, entry.value);
            if (schema.rules[name]?.sensitive === true) prepare(entry);
            else registerUrlSecrets(entry.value);
          } catch (err) {
            unreadable.set(name, `unreadable: ${describe(scrub(err))}`);
          }
        }),
      );
      const result = validateRules(schema.rules, (name) => values.get(name), {
        production,
        unreadable,
      });
      for (const warning of result.warnings) warn(formatProblem(warning));
      if (result.problems.length > 0) throw scrub(new SecretsInvalid(result.problems));
      return result.values as never;
    },
    onChange(name, listener) {
      let set = listeners.get(name);
      if (set === undefined) {
        set = new Set();
        listeners.set(name, set);
        // Load it now, so the first refresh has a value to compare with.
        if (!cache.has(name)) cache.refresh(name).catch(() => {});
      }
      set.add(listener);
      if (timer === undefined && ttlMs > 0) {
        timer = setInterval(() => reloadWatched([...listeners.keys()]), ttlMs);
        timer.unref();
      }
      if (!closed) stopWatching ??= source.watch?.(reloadWatched);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(name);
      };
    },
    close() {
      closed = true;
      clearInterval(timer);
      timer = undefined;
      stopWatching?.();
      stopWatching = undefined;
      listeners.clear();
      cache.close();
    },
  };
}

function refuseInsecureProviders(providers: readonly SecretProvider[]): void {
  const refused = providers.filter((p) => p.refusedInProduction === true).map((p) => p.name);
  if (refused.length === 0) return;
  throw new CustosError(
    'ERR_INSECURE_PROVIDER',
    `production refuses the plain process environment (provider ${refused.join(', ')}): read secrets from files (secretFiles), encrypted dotenv files (dotenvFiles) or a secret store, or use processEnv({ allowInProduction: true }) when a trusted launcher such as custos run filled it`,
  );
}

function seconds(value: number, what: string, max: number): number {
  if (typeof value !== 'number' || !(value >= 0) || value > max) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} must be from 0 to ${max} seconds`);
  }
  return value;
}

function describe(error: unknown): string {
  if (isCustosError(error)) return `${error.message} [${error.code}]`;
  return error instanceof Error ? error.message : 'unknown error';
}
