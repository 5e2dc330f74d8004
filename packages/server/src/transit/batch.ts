import { CustosError, isCustosError } from '@custos/core/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodyOf } from '../http/body-parser.js';
import { envelope, ok } from '../http/envelope.js';

/** Largest `batch_input` accepted. */
export const MAX_BATCH_ITEMS = 10_000;

/** The items of a request: `batch_input`, or the body itself as one item. */
export function itemsOf(request: FastifyRequest): {
  items: Record<string, unknown>[];
  batch: boolean;
} {
  const body = bodyOf(request);
  const batch = body.batch_input;
  if (batch === undefined) return { items: [body], batch: false };
  if (!Array.isArray(batch) || batch.length === 0) {
    throw new CustosError('ERR_INVALID_REQUEST', 'batch_input must be a non-empty list');
  }
  if (batch.length > MAX_BATCH_ITEMS) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `batch_input holds at most ${MAX_BATCH_ITEMS} items`,
    );
  }
  return {
    items: batch.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw new CustosError('ERR_INVALID_REQUEST', `batch_input[${i}] must be an object`);
      }
      return item as Record<string, unknown>;
    }),
    batch: true,
  };
}

/** One item's result: its fields, or the error message (client errors only). */
export type ItemResult = Record<string, unknown> | { error: string };

/**
 * Runs `work` per item. Client errors (bad input, a ciphertext that does not decrypt) become
 * the item's `error`; anything else (storage down, a bug) fails the whole request.
 */
export async function runItems(
  items: readonly Record<string, unknown>[],
  work: (item: Record<string, unknown>) => Promise<Record<string, unknown>>,
): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  for (const item of items) {
    try {
      results.push(await work(item));
    } catch (err) {
      if (!isCustosError(err) || err.code === 'ERR_SEALED' || err.code === 'ERR_AUDIT_UNAVAILABLE')
        throw err;
      results.push({ error: err.message });
    }
  }
  return results;
}

/**
 * Answers a transit request as Vault does. One item: its data, or its error as a 400. A batch:
 * `batch_results` with `reference` echoed; 200 when all succeed, 400 when all fail, and
 * `partial_failure_response_code` (default 400) when some fail.
 */
export function sendResults(
  request: FastifyRequest,
  reply: FastifyReply,
  items: readonly Record<string, unknown>[],
  results: ItemResult[],
  batch: boolean,
): FastifyReply {
  if (!batch) {
    const only = results[0] as ItemResult;
    if ('error' in only) return reply.code(400).send({ errors: [only.error] });
    return ok(request, reply, only);
  }
  const withReferences = results.map((result, i) => ({
    ...result,
    reference: items[i]?.reference ?? '',
  }));
  const failures = results.filter((r) => 'error' in r).length;
  const body = envelope(request.id, { batch_results: withReferences });
  if (failures === 0) return reply.code(200).send(body);
  const partial = bodyOf(request).partial_failure_response_code;
  const code =
    failures < results.length && typeof partial === 'number' && partial >= 200 && partial < 600
      ? partial
      : 400;
  return reply.code(code).send(body);
}
