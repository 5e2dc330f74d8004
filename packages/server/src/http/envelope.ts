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
  /**
   * The type of the mount that served the request, as Vault sends it: `kv`, `transit`,
   * `cubbyhole`, `approle`, `token` (`auth/token/`), `system` (`sys/`); empty for the routes
   * of no mount (custos's own `aws/access-key`).
   */
  mount_type: string;
}

/** What an envelope is built for: the request's ID and, once admitted, its mount. */
export type EnvelopeRequest = Pick<FastifyRequest, 'id'> & {
  readonly custos?: Pick<FastifyRequest['custos'], 'path' | 'mount'> | null;
};

/**
 * The `mount_type` of a request's response: its mount's type when routed by mount, else the
 * type of the fixed mount its path is under (`sys/`, `auth/token/`).
 *
 * @example
 * ```ts
 * mountTypeOf(request); // 'kv' for secret/data/app, 'system' for sys/mounts
 * ```
 */
export function mountTypeOf(request: EnvelopeRequest): string {
  const state = request.custos;
  if (state?.mount !== undefined) return state.mount.type;
  const path = state?.path ?? '';
  if (path === 'sys' || path.startsWith('sys/')) return 'system';
  if (path.startsWith('auth/token/')) return 'token';
  return '';
}

/** Builds the envelope for `data` (and optional auth and warnings). */
export function envelope(
  request: EnvelopeRequest,
  data: unknown,
  extras: { auth?: AuthBlock; warnings?: string[] } = {},
): ResponseEnvelope {
  return {
    request_id: request.id,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: extras.warnings && extras.warnings.length > 0 ? extras.warnings : null,
    auth: extras.auth ?? null,
    mount_type: mountTypeOf(request),
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
  return reply.code(200).send(envelope(request, data, extras));
}

/** Sends 204 No Content, as Vault does for writes that return nothing. */
export function noContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
