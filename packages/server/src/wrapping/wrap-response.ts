import type { FastifyRequest } from 'fastify';
import { mountTypeOf, type ResponseEnvelope } from '../http/envelope.js';
import type { WrappingStore } from './wrapping-store.js';

/** Whether a sent body is Vault's response envelope (the only kind of response Vault wraps). */
function isEnvelope(value: unknown): value is ResponseEnvelope {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    'request_id' in value &&
    'wrap_info' in value &&
    'data' in value
  );
}

/**
 * Wraps a successful response the request asked to wrap (`X-Vault-Wrap-TTL`, read by the
 * boundary into `request.custos.wrapTtl`): the envelope is stored behind the barrier and the
 * client gets, instead, an envelope whose only content is `wrap_info` (the single-use wrapping
 * token). A body that is not an envelope (no body, `sys/leader`'s raw answer) is sent as it is.
 *
 * @example
 * ```ts
 * payload = await wrapPayload(wrapping, request, payload, ttl);
 * ```
 */
export async function wrapPayload(
  wrapping: WrappingStore,
  request: FastifyRequest,
  payload: unknown,
  ttlSeconds: number,
): Promise<unknown> {
  if (typeof payload !== 'string' || payload.length === 0) return payload;
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (!isEnvelope(body)) return payload;
  const wrapInfo = await wrapping.wrap(
    { ...body, wrap_info: null },
    ttlSeconds,
    request.custos.path,
  );
  const wrapped: ResponseEnvelope = {
    request_id: request.id,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: wrapInfo,
    warnings: null,
    auth: null,
    mount_type: mountTypeOf(request),
  };
  return JSON.stringify(wrapped);
}
