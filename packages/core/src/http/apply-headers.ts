import { randomBytes } from 'node:crypto';
import {
  type IncomingMessage,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
import helmet, { contentSecurityPolicy, type HelmetOptions } from 'helmet';
import { CustosError } from '../errors/index.js';
import { noncePool } from '../lib/random-pool.js';
import {
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

/** A name (directive, feature) shown in an error: anything else might be text that was not meant as one. */
const SHOWN_NAME = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
const shownName = (name: string) => (SHOWN_NAME.test(name) ? name : '(a name that is none)');

const FEATURE = /^[a-z][a-z0-9-]*$/;
const ALLOW_ENTRY = /^(self|src|\*|"https?:\/\/[A-Za-z0-9.:[\]-]+")$/;

/** `camera=(), geolocation=(self "https://maps.example")`. */
function permissionsPolicyHeader(policy: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(policy)
    .map(([feature, allow]) => {
      if (!FEATURE.test(feature)) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `permissionsPolicy: ${shownName(feature)} is not a feature name (lower-case letters, digits and -)`,
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

/** The CSP options read once: directives copied, the nonce choice made. */
interface CspSnapshot {
  readonly directives: Record<string, string[] | null>;
  readonly nonce: boolean;
}

/**
 * The CSP options as given, each value read once and copied (JavaScript callers and JSON
 * configuration escape the types): every directive an array of strings or `null`. A string
 * would be read character by character (a lone `*` in it allows any host), a function would be
 * called once, at start-up, since the headers are recorded then (recordHeaders), and a getter,
 * a Proxy or an array's own methods could answer the checks with one value and helmet with
 * another: only the copies go on.
 */
function snapshotCsp(csp: SecurityHeadersOptions['contentSecurityPolicy']): CspSnapshot | false {
  if (csp === false) return false;
  const given = csp?.directives;
  const nonce: unknown = csp?.nonce ?? true;
  if (typeof nonce !== 'boolean')
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'contentSecurityPolicy.nonce must be true or false',
    );
  // Without a prototype: a `__proto__` key (JSON.parse makes one) stays a key, which helmet
  // refuses, instead of setting the copy's prototype.
  const directives: Record<string, string[] | null> = Object.create(null);
  if (given === undefined) return { directives, nonce };
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'contentSecurityPolicy.directives must be an object',
    );
  for (const name of Object.keys(given)) {
    const values: unknown = given[name];
    if (values === null) {
      directives[name] = null;
      continue;
    }
    const copy: string[] = [];
    const length = Array.isArray(values) ? values.length : -1;
    for (let i = 0; i < length; i++) {
      const value: unknown = (values as readonly unknown[])[i];
      if (typeof value !== 'string') break;
      copy.push(value);
    }
    if (copy.length !== length)
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `contentSecurityPolicy.directives.${shownName(name)} must be an array of strings, or null to remove it`,
      );
    directives[name] = copy;
  }
  return { directives, nonce };
}

/**
 * A source list that says "nothing": no source at all, or `'none'` among them (a browser reads
 * the header's words, so `'none'` is ignored beside any other: the list contradicts itself and
 * is kept as written). Words, not entries: `"'none' 'none'"` and `""` are entries too.
 */
function allowsNothing(sources: readonly string[]): boolean {
  const words = sources
    .join(' ')
    .toLowerCase()
    .split(/[\t\n\f\r ]+/)
    .filter(Boolean);
  return words.length === 0 || words.includes("'none'");
}

function cspOption(csp: CspSnapshot | false): NonNullable<HelmetOptions['contentSecurityPolicy']> {
  if (csp === false) return false;
  const directives: Record<
    string,
    Iterable<string | ((req: IncomingMessage, res: ServerResponse) => string)> | null
  > = { ...csp.directives };
  if (csp.nonce) {
    const nonce = (_req: IncomingMessage, res: ServerResponse) => `'nonce-${nonces.get(res)}'`;
    const withNonce = (camel: string, kebab: string) => {
      const key = kebab in csp.directives ? kebab : camel;
      const given = csp.directives[key];
      // Removed on purpose (`null`), or allowing nothing (`[]`, `'none'`): a nonce (or `'self'`
      // and a nonce) would allow more than asked.
      if (given === null || (given !== undefined && allowsNothing(given))) return;
      directives[key] = [...(given ?? ["'self'"]), nonce];
    };
    withNonce('scriptSrc', 'script-src');
    withNonce('styleSrc', 'style-src');
  }
  return { useDefaults: true, directives };
}

/**
 * helmet's CSP checks, with an error that names the refused directive and never quotes its
 * sources (helmet's own messages do: `"nonce-…" should be quoted`).
 */
function checkWithHelmet(csp: CspSnapshot | false): void {
  if (csp === false) return;
  const refused = (directives: CspSnapshot['directives']) => {
    try {
      contentSecurityPolicy({ useDefaults: true, directives });
      return false;
    } catch {
      return true;
    }
  };
  if (!refused(csp.directives)) return;
  const name = Object.keys(csp.directives).find((key) =>
    refused({ [key]: csp.directives[key] ?? null }),
  );
  throw new CustosError(
    'ERR_INVALID_ARGUMENT',
    name === undefined
      ? 'contentSecurityPolicy.directives: a directive is given twice (camelCase and kebab-case) or default-src is removed'
      : csp.directives[name] === null
        ? `contentSecurityPolicy.directives.${shownName(name)} cannot be removed`
        : `contentSecurityPolicy.directives.${shownName(name)} is refused: keywords, nonces and hashes go in single quotes ('self', 'nonce-…'), and no source holds ';' or ','`,
  );
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
  const csp = snapshotCsp(options.contentSecurityPolicy);
  checkWithHelmet(csp);
  const wantsNonce = csp !== false && csp.nonce;
  let middleware: ReturnType<typeof helmet>;
  try {
    // Spread, helmet's either-this-name-or-its-alias option types lose their pairing.
    middleware = helmet({
      ...options.helmet,
      contentSecurityPolicy: cspOption(csp),
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
    // helmet names the bad option and quotes its value: the value is left out.
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `security headers: ${String((err as Error).message).replace(/"[^"]*"/g, '"…"')}`,
    );
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
