import {
  booleanSetting,
  readSettings,
  type SettingsEnv,
  textSetting,
} from '../lib/env-settings.js';
import { secret } from '../secrets/schema.js';
import { DOMAIN, type SessionCookieOptions } from './serialize.js';

const MAX_AGE_LIMIT = 400 * 24 * 60 * 60; // browsers cap cookie lifetimes at 400 days

/**
 * Session-cookie defaults from the environment: `COOKIE_SECURE`, `COOKIE_HTTP_ONLY`
 * (`true`/`false`), `COOKIE_SAME_SITE` (`strict`, `lax`, `none`), `COOKIE_DOMAIN`,
 * `COOKIE_MAX_AGE` (seconds). The `__Host-` prefix is turned on whenever the settings allow it
 * (`Secure` and no domain). Read them once at start-up and pass them to every cookie call;
 * throws `ERR_SECRETS_INVALID` listing every bad variable — `SameSite=None` without `Secure`,
 * `COOKIE_SECURE=false` in production, a domain that is not a host name, a bad number.
 *
 * @example
 * ```ts
 * const cookieDefaults = sessionCookieOptionsFromEnv();
 * setSessionCookie(res, 'session', token, cookieDefaults);
 * const token = readSessionCookie(req, 'session', cookieDefaults);
 * ```
 */
export function sessionCookieOptionsFromEnv(env: SettingsEnv = process.env): SessionCookieOptions {
  const settings = readSettings(
    {
      COOKIE_SECURE: booleanSetting(),
      COOKIE_HTTP_ONLY: booleanSetting(),
      COOKIE_SAME_SITE: secret({
        sensitive: false,
        optional: true,
        oneOf: ['strict', 'lax', 'none', 'Strict', 'Lax', 'None'],
      }),
      COOKIE_DOMAIN: textSetting(),
      COOKIE_MAX_AGE: textSetting(),
    },
    env,
  );
  // As serializeSessionCookie decides: Secure unless NODE_ENV says development.
  const environment = env.NODE_ENV?.trim();
  const secure = settings.boolean('COOKIE_SECURE', environment !== 'development');
  if (!secure && environment === 'production') {
    settings.problem('COOKIE_SECURE', 'Secure may only be turned off outside production');
  }
  const sameSite = (settings.text('COOKIE_SAME_SITE')?.toLowerCase() ?? 'strict') as
    | 'strict'
    | 'lax'
    | 'none';
  if (sameSite === 'none' && !secure) {
    settings.problem('COOKIE_SAME_SITE', 'SameSite=None needs Secure: set COOKIE_SECURE=true');
  }
  const domain = settings.text('COOKIE_DOMAIN');
  if (domain !== undefined && !DOMAIN.test(domain)) {
    settings.problem('COOKIE_DOMAIN', 'must be a host name such as example.com');
  }
  const maxAge = settings.text('COOKIE_MAX_AGE');
  const maxAgeSeconds =
    maxAge === undefined
      ? undefined
      : settings.integer('COOKIE_MAX_AGE', 0, { min: 0, max: MAX_AGE_LIMIT });
  settings.done();
  return {
    secure,
    httpOnly: settings.boolean('COOKIE_HTTP_ONLY', true),
    sameSite,
    ...(domain === undefined ? { hostPrefix: secure } : { domain, hostPrefix: false }),
    ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
  };
}
