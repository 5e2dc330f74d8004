import { MIN_SCRUBBED_LENGTH } from '../redaction/scrubber.js';
import { secretKindOfName } from './secret-names.js';

/** The secret parts of a URL-valued setting; see {@link urlSecretParts}. */
export interface UrlSecretParts {
  /** The password of the user-info, decoded (`postgres://app:<this>@db`), if there is one. */
  readonly password: string | undefined;
  /**
   * Every text to register with the scrubber: the password as written and decoded (with its user
   * name when it is too short to be matched alone), secret query values, a webhook URL and path.
   */
  readonly parts: readonly string[];
}

/**
 * Hosts whose webhook URLs are bearer credentials: whoever has the URL can post. The path (or
 * part of it) is the secret.
 */
const WEBHOOK_HOSTS: readonly { readonly host: RegExp; readonly path?: RegExp }[] = [
  { host: /^hooks\.slack\.com$/ },
  { host: /^(?:ptb\.|canary\.)?discord(?:app)?\.com$/, path: /^\/api\/(?:v\d+\/)?webhooks\// },
  { host: /\.webhook\.office\.com$/ },
  { host: /^outlook\.office(?:365)?\.com$/, path: /^\/webhook/ },
  { host: /^hooks\.zapier\.com$/ },
  { host: /^api\.telegram\.org$/, path: /^\/bot/ },
];

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;
// Fallback for URLs the WHATWG parser refuses (several hosts, odd characters): the user-info
// runs to the last `@` before the path.
const USER_INFO = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i;

/**
 * Finds the secrets inside a setting whose value is a URL (`DATABASE_URL`, `REDIS_URL`,
 * `SLACK_WEBHOOK_URL`, `HTTP_PROXY`, whatever its name): the password of its user-info
 * (`scheme://user:password@host`), query parameters named like secrets (`?password=`,
 * `?access_token=`, `?api_key=`), and the whole URL of a known webhook host (Slack, Discord,
 * Microsoft Teams, Zapier, Telegram bots). Returns `undefined` when the value is not a URL or
 * carries none of these: `postgres://app@db/app` and `https://example.com` are plain settings.
 *
 * @example
 * ```ts
 * urlSecretParts('postgres://app:s3cr%21t@db/app')?.password; // 's3cr!t'
 * urlSecretParts('https://hooks.slack.com/services/T0/B0/x')?.parts.length; // 2
 * urlSecretParts('https://example.com/'); // undefined
 * ```
 */
export function urlSecretParts(value: string): UrlSecretParts | undefined {
  const text = value.trim();
  if (!ABSOLUTE_URL.test(text)) return undefined;
  const parts: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const userInfo = url === undefined ? USER_INFO.exec(text)?.[1] : userInfoOf(url);
  const colon = userInfo?.indexOf(':') ?? -1;
  const rawPassword = userInfo !== undefined && colon >= 0 ? userInfo.slice(colon + 1) : '';
  const password = rawPassword === '' ? undefined : decode(rawPassword);
  if (password !== undefined) {
    // A password too short for the scrubber alone is found with its user name in front.
    const alone = password.length >= MIN_SCRUBBED_LENGTH;
    parts.push(...(alone ? [rawPassword, password] : [userInfo as string]));
  }
  if (url !== undefined) {
    for (const [name, parameter] of url.searchParams) {
      if (parameter !== '' && secretKindOfName(name) !== undefined) parts.push(parameter);
    }
    const host = url.hostname.toLowerCase();
    const webhook = WEBHOOK_HOSTS.some(
      (known) => known.host.test(host) && (known.path?.test(url.pathname) ?? true),
    );
    if (webhook && url.pathname.length > 1) parts.push(text, url.pathname + url.search);
  }
  return parts.length === 0 ? undefined : { password, parts: [...new Set(parts)] };
}

function userInfoOf(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  return url.password === '' ? url.username : `${url.username}:${url.password}`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
