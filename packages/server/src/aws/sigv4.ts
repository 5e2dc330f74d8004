import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError } from './aws-error.js';

/** How far a request's `X-Amz-Date` may be from the server's clock (AWS: 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The services whose APIs this server answers, by the name their signatures are scoped to. */
export type SignedService = 'secretsmanager' | 'kms';
const TERMINATOR = 'aws4_request';
/** Headers the signature must cover: the target host, the time, and the operation. */
const REQUIRED_SIGNED = ['host', 'x-amz-date', 'x-amz-target'] as const;
const AUTHORIZATION_FIELDS = new Set(['Credential', 'SignedHeaders', 'Signature']);

/** A request as SigV4 reads it. `path` is the literal path, already checked to be canonical. */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What the `Authorization` header claims, before the signature is checked. */
export interface SigV4Claim {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  /** The service the signature is scoped to (the one the request's operation belongs to). */
  readonly service: SignedService;
  readonly signedHeaders: readonly string[];
  readonly signature: Buffer;
  /** The `X-Amz-Date` the request was signed at (ms). */
  readonly signedAtMs: number;
}

const incomplete = (message: string) => new AwsError('IncompleteSignatureException', message, 403);
const badSignature = (message: string) => new AwsError('InvalidSignatureException', message, 403);

/**
 * Reads the SigV4 `Authorization` header and `X-Amz-Date` of a request and checks the time
 * against the server's clock (±{@link MAX_CLOCK_SKEW_MS}), before any key is looked up: a
 * request replayed once its window has passed is refused here.
 *
 * @example
 * ```ts
 * const claim = readSigV4Claim(request, { nowMs: Date.now(), service: 'secretsmanager', region: 'us-east-1' });
 * const secret = await keys.secretOf(claim.accessKeyId);
 * verifySigV4(request, claim, secret);
 * ```
 */
export function readSigV4Claim(
  request: SignedRequest,
  expected: {
    /** The server's time, Unix ms. */
    readonly nowMs: number;
    /** The service the operation belongs to. */
    readonly service: SignedService;
    /** The server's region (`aws.region`): a signature scoped to another is refused, as AWS does. */
    readonly region: string;
    /**
     * Told the access key id as soon as the Credential names one, before the rest is checked
     * (so a request refused for its date or scope is still audited under the key it claims).
     */
    readonly claimed?: (accessKeyId: string) => void;
  },
): SigV4Claim {
  const { nowMs, service: expectedService } = expected;
  const header = single(request.headers.authorization);
  if (header === undefined) {
    throw new AwsError(
      'MissingAuthenticationTokenException',
      'Request is missing Authentication Token',
      403,
    );
  }
  if (request.headers['x-amz-security-token'] !== undefined) {
    throw new AwsError(
      'UnrecognizedClientException',
      'Session tokens are not issued by this server: sign with an access key',
      403,
    );
  }
  if (!header.startsWith(`${ALGORITHM} `))
    throw incomplete(`Authorization must use the ${ALGORITHM} algorithm`);
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) throw incomplete('Authorization header is malformed');
    const name = part.slice(0, eq).trim();
    // One of each: with two Credentials, which one the signature was checked against would
    // depend on the parser, not on what the signer meant.
    if (fields.has(name))
      // Named only when it is one of the header's own fields: the message reaches the audit
      // log in clear, and anything else is the sender's free text (found by an outside probe).
      throw incomplete(
        `Authorization names ${AUTHORIZATION_FIELDS.has(name) ? name : 'a field'} more than once`,
      );
    fields.set(name, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined)
    throw incomplete('Authorization needs Credential, SignedHeaders and Signature');
  const scope = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = scope;
  if (accessKeyId !== undefined && accessKeyId !== '') expected.claimed?.(accessKeyId);
  if (
    scope.length !== 5 ||
    accessKeyId === undefined ||
    accessKeyId === '' ||
    date === undefined ||
    !/^\d{8}$/.test(date) ||
    region === undefined ||
    !/^[a-z0-9-]{1,64}$/.test(region) ||
    service !== expectedService ||
    terminator !== TERMINATOR
  ) {
    throw incomplete(
      `Credential must be <access key id>/<yyyymmdd>/<region>/${expectedService}/${TERMINATOR}`,
    );
  }
  if (region !== expected.region)
    throw badSignature(`Credential should be scoped to a valid region: ${expected.region}`);
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('Signature must be 64 hex digits');
  const names = signedHeaders.split(';');
  const sorted = [...names].sort();
  if (
    names.some((n, i) => n === '' || n !== n.toLowerCase() || n !== sorted[i] || n === names[i - 1])
  )
    throw incomplete('SignedHeaders must be distinct lower-case header names in sorted order');
  for (const required of REQUIRED_SIGNED) {
    if (!names.includes(required)) throw incomplete(`SignedHeaders must include ${required}`);
  }
  for (const name of names) {
    if (request.headers[name] === undefined)
      // Not named: a header name in SignedHeaders is the sender's free text.
      throw incomplete('a header SignedHeaders names is missing from the request');
  }
  const amzDate = single(request.headers['x-amz-date']) ?? '';
  const signedAtMs = parseAmzDate(amzDate);
  if (signedAtMs === undefined) throw incomplete('X-Amz-Date must be yyyymmddThhmmssZ');
  if (amzDate.slice(0, 8) !== date)
    throw badSignature('the Credential date does not match X-Amz-Date');
  if (Math.abs(nowMs - signedAtMs) > MAX_CLOCK_SKEW_MS) {
    throw badSignature(
      `Signature expired: ${amzDate} is more than 5 minutes from the server's time (${amzDateOf(nowMs)})`,
    );
  }
  return {
    accessKeyId,
    date,
    region,
    service: expectedService,
    signedHeaders: names,
    signature: Buffer.from(signature, 'hex'),
    signedAtMs,
  };
}

/**
 * Checks the signature of a request against the secret access key of its claim: the
 * canonical request (method, path, empty query, the signed headers, the SHA-256 of the body),
 * the string to sign and the derived signing key, as AWS specifies them; the signatures are
 * compared in constant time. A body hash sent in `x-amz-content-sha256` must be the body's.
 *
 * @example
 * ```ts
 * verifySigV4(request, claim, secretAccessKey); // throws InvalidSignatureException
 * ```
 */
export function verifySigV4(request: SignedRequest, claim: SigV4Claim, secret: string): void {
  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  const sentHash = single(request.headers['x-amz-content-sha256']);
  if (sentHash !== undefined && sentHash !== payloadHash)
    throw badSignature('x-amz-content-sha256 does not match the request body');
  const expected = signatureOf(request, claim, secret, payloadHash);
  if (!timingSafeEqual(expected, claim.signature)) {
    throw badSignature(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
}

/** The signature the request should carry (hex-decoded). */
function signatureOf(
  request: SignedRequest,
  claim: SigV4Claim,
  secret: string,
  payloadHash: string,
): Buffer {
  const canonicalHeaders = claim.signedHeaders
    .map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    request.path,
    '', // no query string: the JSON protocol has none, and the route refuses one
    canonicalHeaders,
    claim.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${claim.date}/${claim.region}/${claim.service}/${TERMINATOR}`;
  const stringToSign = [
    ALGORITHM,
    single(request.headers['x-amz-date']),
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const kDate = hmac(`AWS4${secret}`, claim.date);
  const kRegion = hmac(kDate, claim.region);
  const kService = hmac(kRegion, claim.service);
  const kSigning = hmac(kService, TERMINATOR);
  return hmac(kSigning, stringToSign);
}

const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** A header's canonical value: values joined by commas, trimmed, inner spaces collapsed. */
function canonicalHeaderValue(value: string | string[] | undefined): string {
  const values = Array.isArray(value) ? value : [value ?? ''];
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

/** `20150830T123600Z` → ms; undefined when malformed. */
function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return amzDateOf(ms) === text ? ms : undefined;
}

/** ms → `yyyymmddThhmmssZ`. */
function amzDateOf(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
