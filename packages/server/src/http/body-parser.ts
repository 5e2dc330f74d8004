import { CustosError } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Deepest nesting of objects and arrays a request body may have (Vault's `max_json_depth`
 * default). Everything downstream (audit HMAC, KV subkeys, storage) walks bodies recursively;
 * this bound keeps those walks far from the stack limit.
 */
export const MAX_JSON_DEPTH = 500;

/**
 * Most JSON values a request body may hold (counted as every element, member value, object and
 * array: the commas and opening brackets outside strings, plus one). Every value of a request
 * is HMAC'd into its audit entry (about 80 bytes each, whatever its size): without a bound one
 * 4 MB body of numbers held the event loop for seconds and wrote some 250 MB of audit log (found
 * by a probe). The largest request the API serves, a transit batch of 10,000 items, stays well
 * below.
 */
export const MAX_JSON_VALUES = 100_000;

/**
 * Most JSON values a body is parsed with before its caller is known. A larger body (up to
 * {@link MAX_JSON_VALUES}) is held unparsed ({@link parseHeldBody}) until the caller is
 * authenticated, and refused on the routes open to anyone (init, unseal, logins, unwrap, root
 * generation, rekey: a few fields each), where nobody is accountable for its cost.
 */
export const MAX_ANONYMOUS_JSON_VALUES = 1_000;

/**
 * Most characters of object keys (all keys together) a body is parsed with before its caller is
 * known; a body with more is held as one of too many values is. Keys are written to the audit
 * log in clear (as Vault writes them), so a body of a few huge keys, under the value bound,
 * cost the log twice its size per request (found by an outside probe). The routes open to
 * anyone name a few short fields.
 */
export const MAX_ANONYMOUS_KEY_CHARS = 16_384;

/** What a held body exceeded: said when a route open to anyone refuses it. */
type HeldFor = 'values' | 'keys';

/**
 * Bodies held until their caller is authenticated, kept as text with what they exceeded: the
 * request's `body` is `null` until {@link parseHeldBody} parses it.
 */
const HELD_BODIES = new WeakMap<FastifyRequest, { text: string; heldFor: HeldFor }>();

/**
 * Whether `request`'s body is held unparsed until its caller is authenticated.
 *
 * @example
 * ```ts
 * if (isBodyHeld(request)) await authenticateFirst(request);
 * ```
 */
export function isBodyHeld(request: FastifyRequest): boolean {
  return HELD_BODIES.has(request);
}

/**
 * Parses a held body (see {@link MAX_ANONYMOUS_JSON_VALUES}) into `request.body`, once its
 * caller is authenticated (a use of its token spent, its signature checked): only then may a
 * body cost a hundred thousand HMACs. Does nothing for a body parsed already.
 *
 * @throws BodySyntaxError when the held text is not JSON.
 * @example
 * ```ts
 * const entry = await tokens.authenticate(token, address);
 * parseHeldBody(request);
 * ```
 */
export function parseHeldBody(request: FastifyRequest): void {
  const held = HELD_BODIES.get(request);
  if (held === undefined) return;
  HELD_BODIES.delete(request);
  try {
    request.body = JSON.parse(held.text);
  } catch {
    throw new BodySyntaxError('request body is not valid JSON');
  }
}

/**
 * Refuses a held body on a route open to anyone (its caller never authenticates).
 *
 * @throws BodySyntaxError naming the bound it exceeded when the body is held.
 * @example
 * ```ts
 * if (access.unauthenticated) refuseHeldBody(request);
 * ```
 */
export function refuseHeldBody(request: FastifyRequest): void {
  const held = HELD_BODIES.get(request);
  if (held === undefined) return;
  HELD_BODIES.delete(request);
  throw new BodySyntaxError(
    held.heldFor === 'values'
      ? `JSON input exceeds allowed value count (${MAX_ANONYMOUS_JSON_VALUES} without authentication)`
      : `JSON input exceeds allowed length of object keys (${MAX_ANONYMOUS_KEY_CHARS} characters without authentication)`,
  );
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

const COLON = 0x3a;

/** Whether `text` holds, from `from` on, optional JSON whitespace and then a colon. */
function colonFollows(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === COLON) return true;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return false;
}

/**
 * What of {@link MAX_JSON_DEPTH}, a bound on values and a bound on the characters of object
 * keys JSON text exceeds, if any, found in one pass over the characters (no recursion, nothing
 * parsed), so a hostile body is turned away before any code walks it. Brackets and commas inside
 * strings do not count; a key is a string followed by a colon, counted as written (escapes
 * included); malformed text is left for `JSON.parse` to refuse.
 *
 * @example
 * ```ts
 * jsonBoundExceeded('{"a":[1,2]}', 10); // undefined: depth 2, 4 values, 1 key character
 * jsonBoundExceeded('{"abc":1}', 10, 2); // 'keys'
 * ```
 */
export function jsonBoundExceeded(
  text: string,
  maxValues: number,
  maxKeyChars = Number.POSITIVE_INFINITY,
): 'depth' | 'values' | 'keys' | undefined {
  let depth = 0;
  let values = 1;
  let keyChars = 0;
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) {
        inString = false;
        if (colonFollows(text, i + 1)) {
          keyChars += i - stringStart;
          if (keyChars > maxKeyChars) return 'keys';
        }
      }
    } else if (c === QUOTE) {
      inString = true;
      stringStart = i + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) return 'depth';
      if (++values > maxValues) return 'values';
    } else if (c === COMMA) {
      if (++values > maxValues) return 'values';
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return undefined;
}

/**
 * Vault reads every request body as JSON whatever its Content-Type (curl's `-d` sends
 * `application/x-www-form-urlencoded`; PATCH sends `application/merge-patch+json`). An empty
 * body is `{}`; a body nested deeper than {@link MAX_JSON_DEPTH}, or holding more values than
 * {@link MAX_JSON_VALUES}, is refused before parsing (and so before the audit log reads it); one
 * of more than {@link MAX_ANONYMOUS_JSON_VALUES} values or {@link MAX_ANONYMOUS_KEY_CHARS}
 * characters of keys is held unparsed until its caller is authenticated. Parse errors never
 * quote the body: it may hold secrets.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request: FastifyRequest, body, done) => {
    parseJsonText(request, body as string, done);
  });
  // The Secrets Manager API signs the body's bytes: they are kept for the signature check.
  app.addContentTypeParser(
    AWS_JSON_CONTENT_TYPE,
    { parseAs: 'buffer' },
    (request: FastifyRequest, body, done) => {
      RAW_BODIES.set(request, body as Buffer);
      parseJsonText(request, (body as Buffer).toString('utf8'), done);
    },
  );
}

/** The content type of AWS's JSON 1.1 protocol (the Secrets Manager API). */
export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

const RAW_BODIES = new WeakMap<FastifyRequest, Buffer>();

const NO_BODY = Buffer.alloc(0);

/**
 * The bytes of a request body sent as {@link AWS_JSON_CONTENT_TYPE} (what SigV4 signs), an
 * empty buffer for a request without a body, or `undefined` for a body sent with another
 * content type: its bytes were not kept, so no signature can be checked over what was parsed
 * (never read it as an empty body: a signature over nothing would then admit any body).
 *
 * @example
 * ```ts
 * const body = rawBodyOf(request);
 * if (body === undefined) throw new Error('send the body as application/x-amz-json-1.1');
 * createHash('sha256').update(body).digest('hex');
 * ```
 */
export function rawBodyOf(request: FastifyRequest): Buffer | undefined {
  const kept = RAW_BODIES.get(request);
  if (kept !== undefined) return kept;
  // Fastify parses no body (and leaves `body` undefined) only when none was sent.
  return request.body === undefined ? NO_BODY : undefined;
}

/**
 * A request body that is not JSON, nested too deep or holding too many values:
 * `ERR_INVALID_REQUEST` as any bad input (Vault's answer), told apart for the AWS APIs, which
 * answer it as `SerializationException`.
 */
export class BodySyntaxError extends CustosError {
  constructor(message: string) {
    super('ERR_INVALID_REQUEST', message);
  }
}

function parseJsonText(
  request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
): void {
  const text = body.trim();
  if (text === '') {
    done(null, {});
    return;
  }
  // The common body is read once; one beyond what anyone may send is read again, against the
  // bounds of an authenticated caller, and held for one if it is within them.
  const anonymous = jsonBoundExceeded(text, MAX_ANONYMOUS_JSON_VALUES, MAX_ANONYMOUS_KEY_CHARS);
  const exceeded =
    anonymous === 'values' || anonymous === 'keys'
      ? jsonBoundExceeded(text, MAX_JSON_VALUES)
      : anonymous;
  if (exceeded === undefined && (anonymous === 'values' || anonymous === 'keys')) {
    HELD_BODIES.set(request, { text, heldFor: anonymous });
    done(null, null);
    return;
  }
  if (exceeded !== undefined) {
    // Vault's wording (its listener's max_json_depth check), with the limit.
    const message =
      exceeded === 'depth'
        ? `JSON input exceeds allowed nesting depth (${MAX_JSON_DEPTH})`
        : `JSON input exceeds allowed value count (${MAX_JSON_VALUES})`;
    done(new BodySyntaxError(message), undefined);
    return;
  }
  try {
    done(null, JSON.parse(text));
  } catch {
    done(new BodySyntaxError('request body is not valid JSON'), undefined);
  }
}

/** The request body as an object (Vault bodies are JSON objects). */
export function bodyOf(request: Pick<FastifyRequest, 'body'>): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new CustosError('ERR_INVALID_REQUEST', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
