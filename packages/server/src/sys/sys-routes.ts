import { CustosError, PermissionDenied } from '@custos/core/errors';
import type { FastifyInstance } from 'fastify';
import { stringList } from '../auth/params.js';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { ok } from '../http/envelope.js';
import { setOwn } from '../lib/own-property.js';
import { registerAuditRoutes } from './audit-routes.js';
import { describeMount, MOUNTS, mountOf } from './mounts.js';

/**
 * The remaining `sys/` endpoints: mounts and auth methods (and the UI mount lookup the `vault kv` CLI uses),
 * `capabilities-self`, and the audit endpoints (`audit-routes.ts`).
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

  // The auth methods, as `vault auth list` reads them: keyed by their path under `auth/`.
  app.get('/v1/sys/auth', async (request, reply) => {
    const data = Object.fromEntries(
      MOUNTS.filter((m) => m.path.startsWith('auth/')).map((m) => [
        m.path.slice('auth/'.length),
        describeMount(m),
      ]),
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
      setOwn(data, path, caps.length > 0 ? caps : ['deny']);
    }
    return ok(request, reply, { ...data, capabilities: data[paths[0] as string] });
  });

  registerAuditRoutes(app, ctx);
}
