import { createHmac } from 'node:crypto';
import { WebhookRejected } from './errors.js';

/**
 * The request header that carries a custos webhook signature (lower case, as Node.js gives
 * header names).
 *
 * @example
 * ```ts
 * const header = req.headers[WEBHOOK_SIGNATURE_HEADER];
 * ```
 */
export const WEBHOOK_SIGNATURE_HEADER = 'custos-webhook-signature';

/**
 * Delivery ids: 1–128 characters of base64url. No `.`, so `<t>.<id>.<body>` reads one way only.
 *
 * @example
 * ```ts
 * WEBHOOK_ID_PATTERN.test('evt_01HZX3'); // true
 * ```
 */
export const WEBHOOK_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** The parts of a signature header. */
export interface ParsedSignatureHeader {
  /** Unix seconds. */
  readonly timestamp: number;
  readonly id: string;
  /** Each `v1=` signature, decoded (32 bytes each). */
  readonly signatures: readonly Buffer[];
}

// Limits that keep a hostile header cheap: a rotation signs with 2–3 secrets, not 16.
const MAX_HEADER_LENGTH = 4096;
const MAX_ELEMENTS = 32;
const MAX_SIGNATURES = 16;
const TIMESTAMP = /^[0-9]{1,12}$/;
const SIGNATURE = /^[0-9a-fA-F]{64}$/;
const KEY = /^[a-z][a-z0-9]{0,15}$/;

/** `t=<unix seconds>,id=<id>,v1=<hex>[,v1=<hex>…]`. */
export function formatSignatureHeader(header: ParsedSignatureHeader): string {
  return [
    `t=${header.timestamp}`,
    `id=${header.id}`,
    ...header.signatures.map((s) => `v1=${s.toString('hex')}`),
  ].join(',');
}

/**
 * HMAC-SHA256 under `key` of `<t>.<id>.` followed by the raw body bytes: the timestamp and the
 * id are signed with the body, so neither can be changed to slip past the replay checks.
 */
export function signaturePayloadHmac(
  key: Buffer,
  timestamp: number,
  id: string,
  body: Buffer,
): Buffer {
  return createHmac('sha256', key).update(`${timestamp}.${id}.`).update(body).digest();
}

/**
 * Reads a signature header strictly. Elements other than `t`, `id` and `v1` (a future `v2`)
 * are skipped; `t` and `id` must appear once. Messages describe the defect, never the text.
 */
export function parseSignatureHeader(
  value: string | readonly string[] | undefined,
): ParsedSignatureHeader {
  // Node.js joins a header sent twice with ", ": read it as the one list it then is.
  const text = Array.isArray(value) ? value.join(',') : value;
  if (typeof text !== 'string' || text.trim() === '') {
    throw malformed(`the ${WEBHOOK_SIGNATURE_HEADER} header is missing`);
  }
  if (text.length > MAX_HEADER_LENGTH) {
    throw malformed(`the signature header is longer than ${MAX_HEADER_LENGTH} characters`);
  }
  const elements = text.split(',');
  if (elements.length > MAX_ELEMENTS) {
    throw malformed(`the signature header has more than ${MAX_ELEMENTS} elements`);
  }
  let timestamp: number | undefined;
  let id: string | undefined;
  const signatures: Buffer[] = [];
  for (const element of elements) {
    const trimmed = element.trim();
    const eq = trimmed.indexOf('=');
    const key = eq < 0 ? '' : trimmed.slice(0, eq);
    const field = trimmed.slice(eq + 1);
    if (!KEY.test(key)) throw malformed('a signature header element is not of the form key=value');
    if (key === 't') {
      if (timestamp !== undefined) throw malformed('the signature header has t= twice');
      if (!TIMESTAMP.test(field)) throw malformed('t= is not a Unix time in seconds');
      timestamp = Number(field);
    } else if (key === 'id') {
      if (id !== undefined) throw malformed('the signature header has id= twice');
      if (!WEBHOOK_ID_PATTERN.test(field)) throw malformed('id= is not 1-128 base64url characters');
      id = field;
    } else if (key === 'v1') {
      if (!SIGNATURE.test(field)) throw malformed('a v1= signature is not 64 hex digits');
      if (signatures.length === MAX_SIGNATURES) {
        throw malformed(`the signature header has more than ${MAX_SIGNATURES} v1= signatures`);
      }
      signatures.push(Buffer.from(field, 'hex'));
    }
  }
  if (timestamp === undefined) throw malformed('the signature header has no t= element');
  if (id === undefined) throw malformed('the signature header has no id= element');
  if (signatures.length === 0) throw malformed('the signature header has no v1= signature');
  return { timestamp, id, signatures };
}

function malformed(message: string): WebhookRejected {
  return new WebhookRejected('ERR_WEBHOOK_MALFORMED', message);
}
