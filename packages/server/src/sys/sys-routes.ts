import { CustosError, PermissionDenied } from '@custos/core/errors';
import type { FastifyInstance } from 'fastify';
import { stringList } from '../auth/params.js';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { ok } from '../http/envelope.js';
import { describeMount, MOUNTS, mountOf } from './mounts.js';

/**
 * The remaining `sys/` endpoints: mounts (and the UI mount lookup the `vault kv` CLI uses),
 * `capabilities-self`, and the audit endpoints.
 *
 * @example
 * ```ts
 * registerSysRoutes(app, ctx);
 * ```
 */
export function registerSysRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/sys/mounts', async (request, reply) => {
    const data = Object.fromEntries(
      MOUNTS.filter((m) => !m.path.startsWith('auth/')).map((m) => [m.path, describeMount(m)]),
    );
    return ok(request, reply, data);
  });

  app.get('/v1/sys/internal/ui/mounts/*', async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    const mount = mountOf(path);
    // As Vault: the mount is described only to a token with some capability under it.
    if (
      mount === undefined ||
      mount.path.startsWith('auth/') ||
      mount.path === 'sys/' ||
      request.custos.acl?.reachesUnder(mount.path) !== true
    ) {
      throw new PermissionDenied();
    }
    return ok(request, reply, { ...describeMount(mount), path: mount.path });
  });

  app.post('/v1/sys/capabilities-self', async (request, reply) => {
    const body = bodyOf(request);
    const paths = stringList(body.paths ?? body.path, 'paths');
    if (paths.length === 0) throw new CustosError('ERR_INVALID_REQUEST', "missing 'paths'");
    const acl = request.custos.acl;
    const data: Record<string, string[]> = {};
    for (const path of paths) {
      const caps = acl?.isRoot ? ['root'] : [...(acl?.capabilities(path) ?? [])].sort();
      data[path] = caps.length > 0 ? caps : ['deny'];
    }
    return ok(request, reply, { ...data, capabilities: data[paths[0] as string] });
  });

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
    async (request, reply) => ok(request, reply, { checkpoints: ctx.audit.checkpoints() }),
  );
}
