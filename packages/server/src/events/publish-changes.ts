import type { FastifyInstance, FastifyRequest } from 'fastify';
import { engineOf } from '../sys/mount-table.js';
import type { ChangeEvents, ChangeKind } from './change-events.js';

/** The KV version 2 subpaths that change a secret, and what the change is. */
const KV2_CHANGES: Readonly<Record<string, ChangeKind>> = {
  data: 'write',
  metadata: 'metadata',
  delete: 'delete',
  destroy: 'delete',
  undelete: 'write',
};

/**
 * The change a successful write request made, or undefined: a write, patch or delete of a
 * KV version 1 or 2 secret (its key read from the path the boundary judged).
 */
export function changeOf(
  request: Pick<FastifyRequest, 'method' | 'custos'>,
): { mount: string; engine: 'kv-1' | 'kv-2'; key: string; kind: ChangeKind } | undefined {
  const state = request.custos;
  if (state?.mount === undefined || state.path === '') return undefined;
  if (request.method === 'GET' || request.method === 'HEAD' || state.operation === 'list')
    return undefined;
  const engine = engineOf(state.mount);
  if (engine !== 'kv-1' && engine !== 'kv-2') return undefined;
  const mount = state.mount.path.replace(/\/$/, '');
  if (!state.path.startsWith(`${mount}/`)) return undefined;
  const rest = state.path.slice(mount.length + 1).replace(/\/$/, '');
  const deleting = request.method === 'DELETE';
  if (engine === 'kv-1') {
    if (rest === '') return undefined;
    return { mount, engine, key: rest, kind: deleting ? 'delete' : 'write' };
  }
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined; // config, or a bare subpath
  const kind = KV2_CHANGES[rest.slice(0, slash)];
  const key = rest.slice(slash + 1);
  if (kind === undefined || key === '') return undefined;
  return { mount, engine, key, kind: deleting ? 'delete' : kind };
}

/**
 * Publishes a change event after every successful write of a KV secret through the HTTP API
 * (2xx answered, so the write committed). The event names the secret, never its value.
 *
 * @example
 * ```ts
 * registerChangePublishing(app, events);
 * ```
 */
export function registerChangePublishing(app: FastifyInstance, events: ChangeEvents): void {
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 200 || reply.statusCode >= 300) return;
    const change = changeOf(request);
    if (change !== undefined) events.publish(change);
  });
}
