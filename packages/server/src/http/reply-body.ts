/**
 * The object a reply was last serialised from, with the text it gave: the boundary audits a
 * response from the object its handler built instead of parsing the text back (the response
 * entry needs every value of it). Serialisation and the boundary's `onSend` run one right
 * after the other for each reply, so the slot holds the reply being sent; when it does not (an
 * `onSend` hook before the boundary's waited, and another reply was serialised meanwhile),
 * its text differs and the text is parsed as before. Equal texts need no more: the audit
 * reads an object as JSON reads it (`hmacScalars`), so an object and its text give one entry.
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
    return held.body;
  }
  try {
    return JSON.parse(payload);
  } catch {
    return null;
  }
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
