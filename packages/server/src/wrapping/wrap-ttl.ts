import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';
import { MAX_TOKEN_TTL_SECONDS } from '../auth/token-lifetime.js';
import { parseDurationSeconds } from '../lib/duration.js';

/** The header that asks for a response to be wrapped, with the wrapping token's TTL. */
export const WRAP_TTL_HEADER = 'x-vault-wrap-ttl';

/** Shortest wrap TTL: a wrapping token must live long enough to be handed on. */
export const MIN_WRAP_TTL_SECONDS = 1;

/** Longest wrap TTL: a wrapping token is a token, capped like every token. */
export const MAX_WRAP_TTL_SECONDS = MAX_TOKEN_TTL_SECONDS;

/**
 * The wrap TTL a request asks for (`X-Vault-Wrap-TTL`: seconds or a duration such as `"60s"`,
 * `"5m"`), or undefined when it asks for none. A value that is not a duration, or is outside
 * 1 s … 768 h, is refused (400) without being echoed.
 *
 * @example
 * ```ts
 * wrapTtlOf(request); // 60 for `X-Vault-Wrap-TTL: 1m`
 * ```
 */
export function wrapTtlOf(request: FastifyRequest): number | undefined {
  const header = request.headers[WRAP_TTL_HEADER];
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || header.trim() === '')
    throw new CustosError('ERR_INVALID_REQUEST', 'X-Vault-Wrap-TTL must be one duration');
  const ttl = parseDurationSeconds(header.trim(), 'X-Vault-Wrap-TTL');
  if (ttl < MIN_WRAP_TTL_SECONDS || ttl > MAX_WRAP_TTL_SECONDS)
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `X-Vault-Wrap-TTL must be from ${MIN_WRAP_TTL_SECONDS}s to ${MAX_WRAP_TTL_SECONDS / 3600}h`,
    );
  return ttl;
}
