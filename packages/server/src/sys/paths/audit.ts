import { CustosError } from '@custos/core/errors';
import { type AuditBroker, NEW_FILE_PATH } from '../../audit/audit-broker.js';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';

/**
 * The `sys/audit…` endpoints: the sinks, `audit-hash`, the checkpoint public key, the chain
 * state `custos audit verify --server` checks a file against, and `new-file`, which starts a new
 * file for a sink refused because its file no longer holds the recorded chain.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [auditPaths({ audit })]);
 * ```
 */
export function auditPaths({ audit }: { readonly audit: AuditBroker }): RouteGroup {
  return {
    name: 'sys/audit',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/audit',
        access: { sudo: true },
        handler: async (request, reply) => {
          const data = Object.fromEntries(
            audit.sinkTypes().map(({ name, type }) => [
              `${name}/`,
              {
                type,
                path: `${name}/`,
                options: {},
              },
            ]),
          );
          return ok(request, reply, data);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/audit-hash/:sink',
        access: { sudo: true },
        handler: async (request, reply) => {
          // Kept by hand: `input` may be a string, a number or a boolean (no type is all three).
          const input = bodyOf(request).input;
          // Numbers and booleans are HMAC'd in the log as their canonical string: hash them
          // alike.
          if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'boolean')
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              "'input' must be a string, a number or a boolean",
            );
          return ok(request, reply, { hash: audit.hash(request.params.sink, input) });
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/audit/public-key',
        handler: async (request, reply) => {
          const key = audit.publicKey();
          if (key === undefined) throw new CustosError('ERR_NOT_FOUND', 'no audit sink is enabled');
          return ok(request, reply, { key_id: key.keyId, public_key: key.publicKey });
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/audit/checkpoints',
        access: { sudo: true },
        handler: async (request, reply) =>
          ok(request, reply, { checkpoints: audit.checkpoints(), files: audit.fileStarts() }),
      }),
      // The request is recorded first thing in the new file (see AuditBroker.logRequest).
      route({
        method: 'POST',
        path: `/v1/${NEW_FILE_PATH}:sink`,
        access: { sudo: true },
        handler: async (request, reply) => {
          const sink = request.params.sink;
          const started = await audit.startNewFile(sink, request.custos.audit);
          return ok(request, reply, {
            sink,
            seq: started.seq,
            hash: started.hash,
            time: started.time,
            previous_checkpoint: started.previous,
          });
        },
      }),
    ],
  };
}
