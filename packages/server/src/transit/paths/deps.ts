import type { FastifyRequest } from 'fastify';
import type { UsageRecorder } from '../key-usage.js';
import type { TransitMount } from '../transit-mounts.js';

/**
 * What transit's path groups are built from. Each group takes only the members it uses
 * (`Pick<TransitPathDeps, …>`). Transit is served at every transit mount: a handler asks
 * `transitOf(request)` for the engine of the mount its request was admitted for.
 */
export interface TransitPathDeps {
  /** The transit engine (keys, usage log) of the mount the request names. */
  readonly transitOf: (request: FastifyRequest) => TransitMount;
  readonly recorder: UsageRecorder;
  /** Told of every item whose error may be a tamper signal (a ciphertext that did not open). */
  readonly onItemError?: (error: unknown) => void;
}
