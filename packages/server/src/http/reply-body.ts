/**
 * The object a reply was last serialised from, with the text it gave: the boundary audits a
 * response from the object its handler built instead of parsing the text back (the response
 * entry needs every value of it). Serialisation and the boundary's `onSend` run one right
 * after the other for each reply, in one turn: the `onSend` hooks before the boundary's are
 * callback hooks (the security headers'), which never wait. So the slot holds the reply being
 * sent, and nothing could have changed its object since; when it does not (another reply was
 * serialised meanwhile), its text differs and the text is parsed as before. Equal texts need
 * no more: the audit reads an object as JSON reads it (`hmacScalars`), so an object and its
 * text give one entry — for an object whose parts the audit reads directly (the envelope and
 * its `data`, `auth` and `wrap_info`) have no `toJSON` of their own; any other is parsed.
 */
let last: { readonly text: string; readonly body: unknown } | undefined;

/**
 * Fastify's reply serialiser for every route without a response schema: `JSON.stringify`, as
 * Fastify's own default, remembering the object for {@link replyBodyOf}.
 *
 * @example
 * ```ts
 * app.setReplySerializer(serializeReply);
 * ```
 */
export function serializeReply(payload: unknown): string {
  const text = JSON.stringify(payload);
  last = { text, body: payload };
  return text;
}

/**
 * The body of a reply sent as `payload`: the object it was serialised from when it is the
 * last one serialised (taken from the slot, which keeps nothing after), else `payload` parsed;
 * null for an empty or non-JSON payload.
 *
 * @example
 * ```ts
 * const body = replyBodyOf(payload); // in an onSend hook
 * ```
 */
export function replyBodyOf(payload: unknown): unknown {
  if (typeof payload !== 'string' || payload.length === 0) return null;
  const held = last;
  if (held !== undefined && held.text === payload) {
    last = undefined;
    if (readAsText(held.body)) return held.body;
  }
  try {
    return JSON.parse(payload);
  } catch {
    return null;
  }
}

/** The parts of an envelope the audit reads directly, without JSON's `toJSON` step. */
const READ_DIRECTLY = ['data', 'auth', 'wrap_info'] as const;

const hasToJSON = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { toJSON?: unknown }).toJSON === 'function';

/** Whether the audit reads `body` as it would read the text JSON makes of it. */
function readAsText(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return true;
  if (hasToJSON(body)) return false;
  const parts = body as Record<string, unknown>;
  return READ_DIRECTLY.every((part) => !hasToJSON(parts[part]));
}

/**
 * Empties the slot for a reply that is not audited (`sys/init`'s keys, say), so the object
 * is not kept until the next reply is serialised.
 *
 * @example
 * ```ts
 * if (record === undefined) forgetReply();
 * ```
 */
export function forgetReply(): void {
  last = undefined;
}
