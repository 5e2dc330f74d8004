import { setImmediate as nextTurn } from 'node:timers/promises';
import { CustosError } from '@custos/core/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isServerError } from '../errors.js';
import { bodyOf } from '../http/body-parser.js';
import { envelope, ok } from '../http/envelope.js';
import { optionalInt } from '../http/fields.js';

/** Largest `batch_input` accepted. */
export const MAX_BATCH_ITEMS = 10_000;

/**
 * Items worked on between two turns of the event loop. Most items are synchronous crypto (a
 * reserved counter slot, no storage); without a break a 10,000-item batch would hold the
 * event loop for seconds and every other request, health checks included, would wait.
 */
export const ITEMS_PER_TURN = 128;

/** A request's items and how to answer them. */
export interface BatchInput {
  readonly items: Record<string, unknown>[];
  /** Whether the request had `batch_input` (answered with `batch_results`). */
  readonly batch: boolean;
  /** `partial_failure_response_code`, a number or a digit string (Vault decodes it weakly). */
  readonly partialFailureCode: number | undefined;
}

/**
 * The items of a request: `batch_input`, or the body itself as one item. Everything that
 * applies to the whole request is checked here, before any item is worked on.
 */
export function itemsOf(request: FastifyRequest): BatchInput {
  const body = bodyOf(request);
  const partialFailureCode = optionalInt(
    body.partial_failure_response_code,
    'partial_failure_response_code',
  );
  const batch = body.batch_input;
  if (batch === undefined) return { items: [body], batch: false, partialFailureCode };
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
    partialFailureCode,
  };
}

/** One item's result: its fields, or the error message (client errors only). */
export type ItemResult = Record<string, unknown> | { error: string };

/**
 * Runs `work` per item, letting other requests run every {@link ITEMS_PER_TURN} items. Client errors (bad input, a ciphertext that does not decrypt) become
 * the item's `error`; anything else (storage down, a bug) fails the whole request.
 */
export async function runItems(
  items: readonly Record<string, unknown>[],
  work: (item: Record<string, unknown>) => Promise<Record<string, unknown>>,
  onItemError?: (error: unknown) => void,
): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  for (const [i, item] of items.entries()) {
    if (i > 0 && i % ITEMS_PER_TURN === 0) await nextTurn();
    try {
      results.push(await work(item));
    } catch (err) {
      if (!isServerError(err) || err.code === 'ERR_SEALED' || err.code === 'ERR_AUDIT_UNAVAILABLE')
        throw err;
      onItemError?.(err);
      results.push({ error: err.message });
    }
  }
  return results;
}

/**
 * Answers a transit request as Vault does. One item: its data, or its error as a 400. A batch:
 * `batch_results` with `reference` echoed; 200 when all succeed, 400 when all fail, and
 * `partial_failure_response_code` (default 400) when some fail. A code outside 200-599 is
 * ignored with Vault's warning.
 */
export function sendResults(
  request: FastifyRequest,
  reply: FastifyReply,
  input: BatchInput,
  results: ItemResult[],
): FastifyReply {
  const { items, batch, partialFailureCode: partial } = input;
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
  const partialFailure = failures > 0 && failures < results.length;
  const valid = partial !== undefined && partial >= 200 && partial < 600;
  const warnings =
    partialFailure && partial !== undefined && !valid
      ? ['invalid HTTP response code override from partial_failure_response_code, reverting to 400']
      : [];
  const body = envelope(request, { batch_results: withReferences }, { warnings });
  if (failures === 0) return reply.code(200).send(body);
  return reply.code(partialFailure && valid ? partial : 400).send(body);
}
