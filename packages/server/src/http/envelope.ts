import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WrapInfo } from '../wrapping/wrapping-store.js';

/** The `auth` block of a response that issues a token (Vault's shape). */
export interface AuthBlock {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: 'service' | 'batch';
  orphan: boolean;
  num_uses: number;
}

/** Vault's response envelope: every successful response with a body has exactly these keys. */
export interface ResponseEnvelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: unknown;
  /** Set only on a wrapped response (the wrapping token); `null` otherwise. */
  wrap_info: WrapInfo | null;
  warnings: string[] | null;
  auth: AuthBlock | null;
}

/** Builds the envelope for `data` (and optional auth and warnings). */
export function envelope(
  requestId: string,
  data: unknown,
  extras: { auth?: AuthBlock; warnings?: string[] } = {},
): ResponseEnvelope {
  return {
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: extras.warnings && extras.warnings.length > 0 ? extras.warnings : null,
    auth: extras.auth ?? null,
  };
}

/**
 * Sends `data` in the envelope with status 200.
 *
 * @example
 * ```ts
 * return ok(request, reply, { keys: ['a', 'b/'] });
 * ```
 */
export function ok(
  request: FastifyRequest,
  reply: FastifyReply,
  data: unknown,
  extras: { auth?: AuthBlock; warnings?: string[] } = {},
): FastifyReply {
  return reply.code(200).send(envelope(request.id, data, extras));
}

/** Sends 204 No Content, as Vault does for writes that return nothing. */
export function noContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
