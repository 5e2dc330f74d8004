import type { FastifyRequest } from 'fastify';
import type { TokenEntry } from '../token-store.js';

/**
 * The token entry of the caller of an authenticated route (the boundary set it).
 *
 * @example
 * ```ts
 * const parent = caller(request);
 * ```
 */
export function caller(request: FastifyRequest): TokenEntry {
  return request.custos.entry as TokenEntry;
}
