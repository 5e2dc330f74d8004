import type { HelmetOptions } from 'helmet';
import { CustosError } from '../errors/index.js';
import {
  booleanSetting,
  readSettings,
  type SettingsEnv,
  textSetting,
} from '../lib/env-settings.js';

/** `Strict-Transport-Security` settings. */
export interface HstsOptions {
  /** `max-age` in seconds (default one year, 31536000). */
  readonly maxAgeSeconds?: number;
  /** Default true. */
  readonly includeSubDomains?: boolean;
  /**
   * Ask to be on the browsers' preload list. The list demands `maxAgeSeconds` ≥ 31536000 and
   * `includeSubDomains`; anything less is refused when the middleware is built.
   */
  readonly preload?: boolean;
}

/** `Content-Security-Policy` settings (on top of helmet's defaults). */
export interface CspOptions {
  /**
   * Directives in helmet's camelCase or kebab-case form, each an array of strings; `null` removes
   * a default directive (and a removed `script-src` or `style-src` gets no nonce either).
   */
  readonly directives?: Readonly<Record<string, readonly string[] | null>>;
  /**
   * Default true: a fresh nonce per response, added to `script-src` and `style-src` (read it
   * with `cspNonce(res)` to mark your inline `<script nonce>` tags).
   */
  readonly nonce?: boolean;
}

/** How responses get `Cache-Control: no-store`. */
export type NoStorePolicy = 'sensitive' | 'all';

/** Options of the security headers (`securityHeaders`, `fastifySecurityHeaders`, `withSecurityHeaders`). */
export interface SecurityHeadersOptions {
  /** HSTS; `false` sends none (plain HTTP, or TLS ends at a proxy that sets it). */
  readonly hsts?: HstsOptions | false;
  /** CSP; `false` sends none. */
  readonly contentSecurityPolicy?: CspOptions | false;
  /**
   * `Permissions-Policy` features and their allow lists (`[]` is `()`: nobody). Default: every
   * powerful feature denied (camera, microphone, geolocation, payment, usb …).
   */
  readonly permissionsPolicy?: Readonly<Record<string, readonly string[]>>;
  /**
   * `sensitive` (default): `Cache-Control: no-store` on responses marked with `markSensitive`;
   * `all`: on every response (an API whose answers carry secrets).
   */
  readonly noStore?: NoStorePolicy;
  /** Other helmet headers (frame options, referrer policy …), passed to helmet as they are. */
  readonly helmet?: Omit<
    HelmetOptions,
    'contentSecurityPolicy' | 'strictTransportSecurity' | 'hsts'
  >;
}

/**
 * The preload list's minimum `max-age` (one year).
 *
 * @example
 * ```ts
 * securityHeaders({ hsts: { maxAgeSeconds: HSTS_PRELOAD_MIN_AGE_SECONDS, preload: true } });
 * ```
 */
export const HSTS_PRELOAD_MIN_AGE_SECONDS = 31_536_000;
const HSTS_MAX_AGE_LIMIT = 2 ** 31 - 1;

/**
 * Every powerful feature, denied unless the options allow it.
 *
 * @example
 * ```ts
 * securityHeaders({ permissionsPolicy: { ...DEFAULT_PERMISSIONS_POLICY, fullscreen: ['self'] } });
 * ```
 */
export const DEFAULT_PERMISSIONS_POLICY: Readonly<Record<string, readonly string[]>> =
  Object.freeze({
    accelerometer: [],
    camera: [],
    'display-capture': [],
    geolocation: [],
    gyroscope: [],
    magnetometer: [],
    microphone: [],
    midi: [],
    payment: [],
    'publickey-credentials-get': [],
    usb: [],
  });

/** Why a preload combination is refused, or undefined when it is consistent. */
function preloadProblem(hsts: Required<HstsOptions>): string | undefined {
  if (!hsts.preload) return undefined;
  if (hsts.maxAgeSeconds < HSTS_PRELOAD_MIN_AGE_SECONDS || !hsts.includeSubDomains) {
    return `preload needs max-age of at least ${HSTS_PRELOAD_MIN_AGE_SECONDS} seconds and includeSubDomains (the preload list's requirements)`;
  }
  return undefined;
}

/**
 * Fills in and checks the HSTS settings. Throws `ERR_INVALID_ARGUMENT` for a bad max-age or a
 * preload request the preload list would reject.
 * @internal
 */
export function resolveHsts(hsts: HstsOptions | false | undefined): Required<HstsOptions> | false {
  if (hsts === false) return false;
  const resolved = {
    maxAgeSeconds: hsts?.maxAgeSeconds ?? HSTS_PRELOAD_MIN_AGE_SECONDS,
    includeSubDomains: hsts?.includeSubDomains ?? true,
    preload: hsts?.preload ?? false,
  };
  const { maxAgeSeconds } = resolved;
  if (
    !Number.isSafeInteger(maxAgeSeconds) ||
    maxAgeSeconds < 0 ||
    maxAgeSeconds > HSTS_MAX_AGE_LIMIT
  ) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `hsts.maxAgeSeconds must be a whole number from 0 to ${HSTS_MAX_AGE_LIMIT}`,
    );
  }
  const problem = preloadProblem(resolved);
  if (problem !== undefined) throw new CustosError('ERR_INVALID_ARGUMENT', `hsts: ${problem}`);
  return resolved;
}

/**
 * The security-header options the environment asks for: `HSTS_MAX_AGE` (seconds),
 * `HSTS_INCLUDE_SUBDOMAINS` and `HSTS_PRELOAD` (`true`/`false`). Throws `ERR_SECRETS_INVALID`
 * listing every bad variable, including a preload request with too short a max-age or without
 * subdomains: refused at start-up, never sent.
 *
 * @example
 * ```ts
 * // HSTS_MAX_AGE=63072000 HSTS_PRELOAD=true
 * app.use(securityHeaders(securityHeadersOptionsFromEnv()));
 * ```
 */
export function securityHeadersOptionsFromEnv(
  env: SettingsEnv = process.env,
): SecurityHeadersOptions {
  const settings = readSettings(
    {
      HSTS_MAX_AGE: textSetting(),
      HSTS_INCLUDE_SUBDOMAINS: booleanSetting(),
      HSTS_PRELOAD: booleanSetting(),
    },
    env,
  );
  const hsts = {
    maxAgeSeconds: settings.integer('HSTS_MAX_AGE', HSTS_PRELOAD_MIN_AGE_SECONDS, {
      min: 0,
      max: HSTS_MAX_AGE_LIMIT,
    }),
    includeSubDomains: settings.boolean('HSTS_INCLUDE_SUBDOMAINS', true),
    preload: settings.boolean('HSTS_PRELOAD', false),
  };
  const problem = preloadProblem(hsts);
  if (problem !== undefined) {
    settings.problem(
      'HSTS_PRELOAD',
      `${problem}: set HSTS_MAX_AGE ≥ ${HSTS_PRELOAD_MIN_AGE_SECONDS} and HSTS_INCLUDE_SUBDOMAINS=true, or HSTS_PRELOAD=false`,
    );
  }
  settings.done();
  return { hsts };
}
