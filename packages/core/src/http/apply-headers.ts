import { randomBytes } from 'node:crypto';
import {
  type IncomingMessage,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import { CustosError } from '../errors/index.js';
import { noncePool } from '../lib/random-pool.js';
import {
  type CspOptions,
  DEFAULT_PERMISSIONS_POLICY,
  resolveHsts,
  type SecurityHeadersOptions,
} from './security-headers-options.js';

/** Sets every security header on one response (synchronously). */
export type HeaderApplier = (req: IncomingMessage, res: ServerResponse) => void;

const nonces = new WeakMap<object, string>();

/** The nonce of a response, when CSP nonces are on. @internal */
export function nonceOf(res: object): string | undefined {
  return nonces.get(res);
}

const FEATURE = /^[a-z][a-z0-9-]*$/;
const ALLOW_ENTRY = /^(self|src|\*|"https?:\/\/[A-Za-z0-9.:[\]-]+")$/;

/** `camera=(), geolocation=(self "https://maps.example")`. */
function permissionsPolicyHeader(policy: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(policy)
    .map(([feature, allow]) => {
      if (!FEATURE.test(feature)) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `permissionsPolicy: "${feature}" is not a feature name`,
        );
      }
      if (
        !Array.isArray(allow) ||
        allow.some((a) => typeof a !== 'string' || !ALLOW_ENTRY.test(a))
      ) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `permissionsPolicy.${feature} must list self, src, * or quoted origins ("https://a.example")`,
        );
      }
      return allow.includes('*') ? `${feature}=*` : `${feature}=(${allow.join(' ')})`;
    })
    .join(', ');
}

/**
 * The directives as given, each checked to be an array of strings or `null` (JavaScript callers
 * and JSON configuration escape the types): a string would be read character by character (a
 * lone `*` in it allows any host), and a function would be called once, at start-up, since the
 * headers are recorded then (recordHeaders).
 */
function checkedDirectives(
  directives: CspOptions['directives'],
): Record<string, readonly string[] | null> {
  if (directives === undefined) return {};
  if (typeof directives !== 'object' || directives === null || Array.isArray(directives))
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'contentSecurityPolicy.directives must be an object',
    );
  for (const [name, values] of Object.entries(directives)) {
    if (values === null) continue;
    if (!Array.isArray(values) || values.some((value) => typeof value !== 'string'))
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `contentSecurityPolicy.directives.${name} must be an array of strings, or null to remove it`,
      );
  }
  return directives;
}

function cspOption(
  options: SecurityHeadersOptions,
): NonNullable<HelmetOptions['contentSecurityPolicy']> {
  const csp = options.contentSecurityPolicy;
  if (csp === false) return false;
  const directives: Record<
    string,
    Iterable<string | ((req: IncomingMessage, res: ServerResponse) => string)> | null
  > = {
    ...checkedDirectives(csp?.directives),
  };
  if (csp?.nonce ?? true) {
    const nonce = (_req: IncomingMessage, res: ServerResponse) => `'nonce-${nonces.get(res)}'`;
    const withNonce = (camel: string, kebab: string) => {
      const key = kebab in directives ? kebab : camel;
      const given = directives[key];
      // Removed on purpose (`null`): adding `'self'` and a nonce would allow more than asked.
      if (given === null) return;
      directives[key] = [...(given ?? ["'self'"]), nonce];
    };
    withNonce('scriptSrc', 'script-src');
    withNonce('styleSrc', 'style-src');
  }
  return { useDefaults: true, directives };
}

/**
 * Builds the function that sets helmet's headers, HSTS, CSP (with a fresh nonce per response),
 * `Permissions-Policy` and, with `noStore: 'all'`, `Cache-Control: no-store`. Every option is
 * checked here, so a bad configuration fails at start-up.
 * @internal
 */
export function createHeaderApplier(options: SecurityHeadersOptions = {}): HeaderApplier {
  if (typeof options !== 'object' || options === null) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'security header options must be an object');
  }
  const hsts = resolveHsts(options.hsts);
  const noStore = options.noStore ?? 'sensitive';
  if (noStore !== 'sensitive' && noStore !== 'all') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'noStore must be "sensitive" or "all"');
  }
  const permissions = permissionsPolicyHeader(
    options.permissionsPolicy ?? DEFAULT_PERMISSIONS_POLICY,
  );
  const wantsNonce =
    options.contentSecurityPolicy !== false && (options.contentSecurityPolicy?.nonce ?? true);
  let middleware: ReturnType<typeof helmet>;
  try {
    // Spread, helmet's either-this-name-or-its-alias option types lose their pairing.
    middleware = helmet({
      ...options.helmet,
      contentSecurityPolicy: cspOption(options),
      strictTransportSecurity:
        hsts === false
          ? false
          : {
              maxAge: hsts.maxAgeSeconds,
              includeSubDomains: hsts.includeSubDomains,
              preload: hsts.preload,
            },
    } as HelmetOptions);
  } catch (err) {
    // helmet names the bad option; it never holds a secret.
    throw new CustosError('ERR_INVALID_ARGUMENT', `security headers: ${(err as Error).message}`);
  }
  const headers = recordHeaders(middleware, wantsNonce);
  if (permissions !== '') headers.push({ name: 'permissions-policy', parts: [permissions] });
  if (noStore === 'all') headers.push({ name: 'cache-control', parts: ['no-store'] });
  return (_req, res) => {
    // From the process's nonce pool: a `randomBytes(16)` per response measured ~10 µs here.
    const nonce = wantsNonce ? noncePool.take(16).toString('base64') : '';
    if (wantsNonce) nonces.set(res, nonce);
    for (const header of headers) {
      if (header.parts === undefined) res.removeHeader(header.name);
      else
        res.setHeader(
          header.name,
          header.parts.length === 1 ? (header.parts[0] as string) : header.parts.join(nonce),
        );
    }
  };
}

/**
 * One header helmet sets (`parts` joined by the response's nonce) or removes (no `parts`).
 */
interface RecordedHeader {
  readonly name: string;
  readonly parts?: readonly string[];
}

/**
 * What helmet's middleware does to a response, recorded once: its headers depend on the options
 * only, apart from the CSP nonce, which is recorded as a placeholder that no header holds and
 * split on. Run per response, helmet rebuilt the CSP text and checked every directive each time
 * (measured alone on the bench machine: ~7 µs of the ~18 µs the headers cost per response, most
 * of the rest the nonce's `randomBytes`); replayed, they cost ~5 µs, the `setHeader` calls. A
 * directive helmet refuses fails here, at start-up, instead of on every response.
 */
function recordHeaders(
  middleware: ReturnType<typeof helmet>,
  wantsNonce: boolean,
): RecordedHeader[] {
  const placeholder = randomBytes(18).toString('base64url');
  const recorded: RecordedHeader[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      const text = String(value);
      // What Node's own setHeader would refuse on every response (a line break or a character
      // beyond Latin-1 in a directive) is refused here, once, when the applier is built.
      validateHeaderName(name);
      validateHeaderValue(name, text);
      recorded.push({ name, parts: wantsNonce ? text.split(placeholder) : [text] });
    },
    removeHeader(name: string) {
      recorded.push({ name });
    },
  };
  if (wantsNonce) nonces.set(recorder, placeholder);
  let failure: unknown;
  try {
    // helmet's middlewares are synchronous: `next` has run when it returns.
    middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
      failure = err;
    });
  } catch (err) {
    // Node's header checks name the header, never its value.
    failure = err;
  }
  if (failure !== undefined)
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `security headers: ${(failure as Error).message ?? String(failure)}`,
    );
  return recorded;
}
