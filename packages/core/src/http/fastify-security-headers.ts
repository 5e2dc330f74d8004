import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHeaderApplier } from './apply-headers.js';
import {
  type SecurityHeadersOptions,
  securityHeadersOptionsFromEnv,
} from './security-headers-options.js';

/** The parts of a Fastify instance the plugin uses (custos does not depend on Fastify). */
export interface FastifyInstanceLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}

type RequestLike = { readonly raw: IncomingMessage };
type ReplyLike = { readonly raw: ServerResponse; header(name: string, value: string): unknown };

/**
 * The Fastify plugin of {@link securityHeaders}: the same headers on every route of the
 * instance it is registered on (it is not encapsulated, like a `fastify-plugin` plugin). With
 * `noStore: 'all'` the `Cache-Control: no-store` is set last, on send, so no handler can weaken it.
 *
 * @example
 * ```ts
 * import { fastifySecurityHeaders, markSensitive } from '@custos/core/http';
 * await app.register(fastifySecurityHeaders, securityHeadersOptionsFromEnv());
 * app.get('/token', async (request, reply) => { markSensitive(reply); return { token }; });
 * ```
 */
export const fastifySecurityHeaders = Object.assign(
  async function custosSecurityHeaders(
    app: FastifyInstanceLike,
    options: SecurityHeadersOptions | undefined,
  ): Promise<void> {
    // Fastify passes {} when register() is given no options: read the environment then.
    const given = options !== undefined && Object.keys(options).length > 0 ? options : undefined;
    const resolved = given ?? securityHeadersOptionsFromEnv();
    const apply = createHeaderApplier(resolved);
    app.addHook('onRequest', (request: RequestLike, reply: ReplyLike, done: () => void) => {
      apply(request.raw, reply.raw);
      done();
    });
    if (resolved.noStore === 'all') {
      // A callback hook: it never waits, so the hooks after it run in the same turn (custos's
      // server audits a response from the object serialised just before, http/reply-body.ts).
      app.addHook(
        'onSend',
        (
          _request: RequestLike,
          reply: ReplyLike,
          payload: unknown,
          done: (err: null, payload: unknown) => void,
        ) => {
          reply.header('cache-control', 'no-store');
          done(null, payload);
        },
      );
    }
  },
  {
    // What fastify-plugin sets: the hooks apply to the instance it is registered on.
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'custos-security-headers',
  },
);
