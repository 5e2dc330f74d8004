import { CustosError } from '@custos/core/errors';
import type { FastifyInstance } from 'fastify';
import { NEW_FILE_PATH } from '../audit/audit-broker.js';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { ok } from '../http/envelope.js';

/**
 * The `sys/audit…` endpoints: the sinks, `audit-hash`, the checkpoint public key, the chain
 * state `custos audit verify --server` checks a file against, and `new-file`, which starts a new
 * file for a sink refused because its file no longer holds the recorded chain.
 *
 * @example
 * ```ts
 * registerAuditRoutes(app, ctx);
 * ```
 */
export function registerAuditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/sys/audit', { config: { access: { sudo: true } } }, async (request, reply) => {
    const data = Object.fromEntries(
      ctx.audit
        .sinkNames()
        .map((name) => [
          `${name}/`,
          { type: name.startsWith('stdout') ? 'stdout' : 'file', path: `${name}/`, options: {} },
        ]),
    );
    return ok(request, reply, data);
  });

  app.post(
    '/v1/sys/audit-hash/:sink',
    { config: { access: { sudo: true } } },
    async (request, reply) => {
      const input = bodyOf(request).input;
      // Numbers and booleans are HMAC'd in the log as their canonical string: hash them alike.
      if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'boolean')
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          "'input' must be a string, a number or a boolean",
        );
      return ok(request, reply, {
        hash: ctx.audit.hash((request.params as { sink: string }).sink, input),
      });
    },
  );

  app.get('/v1/sys/audit/public-key', async (request, reply) => {
    const key = ctx.audit.publicKey();
    if (key === undefined) throw new CustosError('ERR_NOT_FOUND', 'no audit sink is enabled');
    return ok(request, reply, { key_id: key.keyId, public_key: key.publicKey });
  });

  app.get(
    '/v1/sys/audit/checkpoints',
    { config: { access: { sudo: true } } },
    async (request, reply) =>
      ok(request, reply, { checkpoints: ctx.audit.checkpoints(), files: ctx.audit.fileStarts() }),
  );

  // The request is recorded first thing in the new file (see AuditBroker.logRequest).
  app.post(
    `/v1/${NEW_FILE_PATH}:sink`,
    { config: { access: { sudo: true } } },
    async (request, reply) => {
      const sink = (request.params as { sink: string }).sink;
      const started = await ctx.audit.startNewFile(sink, request.custos.audit);
      return ok(request, reply, {
        sink,
        seq: started.seq,
        hash: started.hash,
        time: started.time,
        previous_checkpoint: started.previous,
      });
    },
  );
}
