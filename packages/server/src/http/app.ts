import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import helmet from '@fastify/helmet';
import fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerApproleRoutes } from '../auth/approle-routes.js';
import { registerTokenRoutes } from '../auth/token-routes.js';
import type { ServerContext } from '../context.js';
import { registerKvRoutes } from '../kv/kv-routes.js';
import { registerPolicyRoutes } from '../policy/policy-routes.js';
import { registerSealRoutes } from '../sys/seal-routes.js';
import { registerSysRoutes } from '../sys/sys-routes.js';
import { registerTransitCryptoRoutes } from '../transit/transit-crypto-routes.js';
import { registerTransitKeyRoutes } from '../transit/transit-key-routes.js';
import { registerJsonBodyParser } from './body-parser.js';
import { registerBoundary } from './boundary.js';
import { toHttpError } from './error-mapping.js';
import { adoptListRequest } from './list-method.js';
import type { RouteAccess } from './route-access.js';

/** One route as registered: method, URL pattern and how it is protected. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every API route, for the docs check and the authorisation tests. */
    routeTable: RouteEntry[];
  }
}

/** Options for {@link buildApp}. */
export interface AppOptions {
  /** Largest request body accepted (413 beyond). */
  readonly bodyLimitBytes: number;
  readonly logger: FastifyBaseLogger | false;
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
}

/**
 * How the router reads a request path, spelled out rather than left to Fastify's defaults: the
 * boundary refuses any path the router would read differently from the literal request (see
 * api-path.ts), and the tests that walk every route read paths with a router built from these
 * same options.
 */
export const ROUTER_OPTIONS = {
  /** Route parameters up to this length (KV keys, transit names); the path limit is 1024. */
  maxParamLength: 2048,
  caseSensitive: true,
  ignoreTrailingSlash: false,
  ignoreDuplicateSlashes: false,
  /** `;` is an ordinary character, never the start of a query string. */
  useSemicolonDelimiter: false,
} as const;

const BAD_REQUEST = Buffer.from(
  'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 34\r\n\r\n{"errors":["malformed request"]}\r\n',
);

/**
 * Builds the HTTP application: the JSON body parser, security headers, the boundary (seal,
 * token, policy, audit), error mapping, and every route module.
 *
 * @example
 * ```ts
 * const app = buildApp(ctx, { bodyLimitBytes: 4 << 20, logger: false });
 * await app.listen({ port: 8200 });
 * ```
 */
export function buildApp(ctx: ServerContext, options: AppOptions): FastifyInstance {
  const app = fastify({
    ...(options.logger === false ? {} : { loggerInstance: options.logger }),
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { ...ROUTER_OPTIONS },
    clientErrorHandler: (error, socket) => {
      if (adoptListRequest(app.server as Server, error, socket)) return;
      if (socket.writable) socket.end(BAD_REQUEST);
      else socket.destroy();
    },
    ...(options.https === undefined
      ? {}
      : { https: { ...options.https, minVersion: 'TLSv1.2' as const } }),
  }) as unknown as FastifyInstance;

  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? [...route.method] : [route.method];
    // PUT = POST (SPEC §3), decided here once for every route module: a POST route answers PUT.
    if (methods.includes('POST') && !methods.includes('PUT')) methods.push('PUT');
    route.method = methods;
    for (const method of methods)
      routeTable.push({ method, url: route.url, access: route.config?.access ?? {} });
  });
  registerJsonBodyParser(app);
  void app.register(helmet, {
    // A JSON API: no documents to frame or script.
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    hsts: options.https !== undefined,
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    // Responses carry secrets: never cache them anywhere.
    reply.header('cache-control', 'no-store');
    return payload;
  });
  registerBoundary(app, ctx);

  app.setErrorHandler((error, request, reply) => {
    const { status, body, logDetail } = toHttpError(error);
    if (logDetail !== undefined) request.log.warn({ err: logDetail }, 'request conflicted');
    if (status === 500)
      request.log.error(
        { err: { message: (error as Error).message, code: (error as { code?: string }).code } },
        'request failed',
      );
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ errors: [] }));

  registerSealRoutes(app, ctx);
  registerSysRoutes(app, ctx);
  registerPolicyRoutes(app, ctx);
  registerTokenRoutes(app, ctx);
  registerApproleRoutes(app, ctx);
  registerKvRoutes(app, 'secret', ctx.kv);
  registerTransitKeyRoutes(app, ctx);
  registerTransitCryptoRoutes(app, ctx);
  return app;
}
