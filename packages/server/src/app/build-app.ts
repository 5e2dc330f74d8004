import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  fastifySecurityHeaders,
  type SecurityHeadersOptions,
  securityHeaders,
} from '@custos/core/http';
import type { TlsServerOptions } from '@custos/core/tls';
import fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { ServerContext } from '../context.js';
import { registerChangePublishing } from '../events/publish-changes.js';
import { registerJsonBodyParser } from '../http/body-parser.js';
import { registerBoundary } from '../http/boundary.js';
import { registerCrossSiteGuard } from '../http/cross-site.js';
import { toHttpError, UNSUPPORTED_PATH_BODY } from '../http/error-mapping.js';
import { adoptListRequest, afterAnswersOwed, answerOwed } from '../http/list-method.js';
import { createMountRouter } from '../http/mount-routing.js';
import { registerRouteGroups } from '../http/route-spec.js';
import { collectRouteTable } from '../http/route-table.js';
import { ROUTER_OPTIONS } from '../http/router-options.js';
import { integritySourceOf } from '../metrics/integrity-failures.js';
import { registerRequestMetrics } from '../metrics/request-metrics.js';
import { type DashboardOptions, registerDashboard } from '../ui/dashboard-routes.js';
import { markConnectionUsed, trackConnections } from './graceful-close.js';
import { routeGroups } from './route-groups.js';

/** A certificate and key, and optionally the rest of `TlsServerOptions`. */
export type ServerTlsOptions = Pick<TlsServerOptions, 'cert' | 'key'> &
  Partial<Omit<TlsServerOptions, 'cert' | 'key'>>;

/**
 * How long a client may take to send a whole request by default (Vault's `http_read_timeout`
 * is 30 s; uploads of the largest bodies over slow links get twice that).
 */
export const REQUEST_TIMEOUT_MS = 60_000;

/** Options for {@link buildApp}. */
export interface AppOptions {
  /** Largest request body accepted (413 beyond). */
  readonly bodyLimitBytes: number;
  /**
   * How long a client may take to send a whole request, body included (default
   * {@link REQUEST_TIMEOUT_MS}): a body sent slowly, or never finished, holds a connection and
   * its partial body until then.
   */
  readonly requestTimeoutMs?: number;
  readonly logger: FastifyBaseLogger | false;
  /** TLS options, as `tlsServerOptions()` of `@custos/core/tls` makes them. */
  readonly https?: ServerTlsOptions;
  /** The dashboard at `/ui/` (ui/dashboard-routes.ts); none when left out. */
  readonly dashboard?: DashboardOptions;
  /** Host names browsers may change state through over loopback (http/cross-site.ts). */
  readonly allowedHosts?: readonly string[];
}

const FASTIFY_JSON = 'application/json; charset=utf-8';

const BAD_REQUEST = Buffer.from(
  'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 34\r\n\r\n{"errors":["malformed request"]}\r\n',
);

/** Fastify's schema compiler factories: none, since a route with a schema is a mistake here. */
function noSchemaCompiler(): never {
  throw new Error('a route declares a JSON schema: custos routes check their input themselves');
}

/**
 * Builds the HTTP application: the JSON body parser, security headers, the boundary (seal,
 * token, policy, audit), error mapping, every route group (route-groups.ts) and the dashboard.
 *
 * @example
 * ```ts
 * const app = buildApp(ctx, { bodyLimitBytes: 4 << 20, logger: false });
 * await app.listen({ port: 8200 });
 * ```
 */
export function buildApp(ctx: ServerContext, options: AppOptions): FastifyInstance {
  // The library's headers (docs/transport.md), no-store on every answer since answers carry
  // secrets. A JSON API: no documents to frame or script, so no CSP nonce and no framing.
  const apiHeaders: SecurityHeadersOptions = {
    contentSecurityPolicy: {
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      nonce: false,
    },
    hsts: options.https !== undefined ? {} : false,
    noStore: 'all',
    helmet: { xFrameOptions: { action: 'deny' } },
  };
  const apiHeadersMiddleware = securityHeaders(apiHeaders);
  const applyApiHeaders = (req: IncomingMessage, res: ServerResponse) =>
    apiHeadersMiddleware(req, res, () => {});
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const timing = {
    // Node checks the time of requests under way this often (30 s by default).
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.ceil(requestTimeout / 4))),
    // Node's own default (60 s), but never above the request timeout: Node swaps the two when
    // it is, and a request's body was then timed by the headers' longer bound.
    headersTimeout: Math.min(60_000, requestTimeout),
  };
  const app = fastify({
    ...(options.logger === false ? {} : { loggerInstance: options.logger }),
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    requestTimeout,
    // Routes declare no JSON schema (handlers check their own input): Fastify's schema compilers
    // (ajv and fast-json-stringify, some 120 modules held for the server's life) are not loaded.
    schemaController: {
      compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler },
    },
    routerOptions: { ...ROUTER_OPTIONS },
    // A URL the router cannot decode: Fastify's own reply would echo the whole URL (query
    // included) outside the API envelope and without the security headers.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const { status, body } = toHttpError(error);
      // No hook runs for it: the headers every answer carries are set here.
      applyApiHeaders(request.raw, reply.raw);
      void reply.code(status).header('cache-control', 'no-store').send(body);
    },
    clientErrorHandler: (error, socket) => {
      if (adoptListRequest(app.server as Server, error, socket)) {
        markConnectionUsed(app.server as Server, socket);
        return;
      }
      // The request being answered is still being read (its body) and the parser failed (the
      // client's FIN, bad chunking, the request timeout): the rest of it can never be read, so
      // its answer never comes. The connection is dropped, which aborts the request; waiting for
      // that answer left the connection open forever (found by an outside probe).
      const owed = answerOwed(socket);
      if (owed !== undefined && !owed.req.complete) {
        socket.destroy();
        return;
      }
      // Bytes after a request that closed the connection are no request: nothing is answered,
      // the connection ends after that request's answer (found by an outside probe: a 400
      // followed the `Connection: close` answer).
      const closed = (error as { code?: string }).code === 'HPE_CLOSED_CONNECTION';
      const refuse = () => {
        if (!socket.writable) socket.destroy();
        else if (closed) socket.end();
        else socket.end(BAD_REQUEST);
      };
      // Answers go out in order: the refusal follows every answer still owed, never replaces one.
      afterAnswersOwed(socket, refuse);
    },
    ...(options.https === undefined
      ? { http: timing }
      : {
          https: {
            ...options.https,
            ...timing,
            // Never below TLS 1.2, whatever a caller without types passes.
            minVersion: options.https.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2',
          },
        }),
  }) as unknown as FastifyInstance;

  // A client that half-closes its side after sending (shutdown(SHUT_WR), `nc -N`) still gets
  // its answer, as from Vault; Node's default aborts the request on the client's FIN, so routes
  // that await (storage, the audit log) answered nothing. The connection ends after the answer.
  // (RFC 9112 §9.6: a half-closed connection does not mean the client lost interest.) The
  // property is Node's own, left out of its types; half-close.test.ts fails if it stops working.
  // Over TLS it takes the raw connections half-open too (a TLS server's are not), and that
  // made TLS connections of the CLI's server tests hang (cli server-commands.test.ts): not
  // done, so a TLS client that half-closes still gets no answer (http/NOTES.md).
  Object.assign(app.server, { httpAllowHalfOpen: true });
  trackConnections(app.server as Server);
  collectRouteTable(app);
  registerJsonBodyParser(app);
  void app.register(fastifySecurityHeaders, apiHeaders);
  registerCrossSiteGuard(app, options.allowedHosts ?? []);
  registerRequestMetrics(app, ctx.metrics);
  const groups = routeGroups(ctx);
  registerBoundary(app, ctx, createMountRouter(groups));
  // Vault answers `application/json` exactly, and clients compare the header whole
  // (@litehex/node-vault parses nothing else); Fastify adds `; charset=utf-8` (JSON is UTF-8).
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.getHeader('content-type') === FASTIFY_JSON)
      reply.header('content-type', 'application/json');
    return payload;
  });
  registerChangePublishing(app, ctx.events);

  app.setErrorHandler((error, request, reply) => {
    // The client went away before its request was read whole (an abort in the middle of its
    // body): nothing is wrong here and nobody reads the answer. Node reports it as ECONNRESET,
    // which was logged as storage unavailable (found by an outside probe).
    if (request.raw.readableAborted && !request.raw.complete) {
      request.log.info('the client closed its connection before sending its whole request');
      return reply.code(400).send({ errors: ['the request was not received whole'] });
    }
    const { status, body, logDetail } = toHttpError(error);
    const source = integritySourceOf(error);
    if (source !== undefined) ctx.metrics.integrityFailed(source);
    if (logDetail !== undefined)
      request.log.warn(
        { err: logDetail },
        logDetail.code === 'ERR_STORAGE_UNAVAILABLE' ? 'storage unavailable' : 'request conflicted',
      );
    if (status === 500)
      request.log.error(
        { err: { message: (error as Error).message, code: (error as { code?: string }).code } },
        'request failed',
      );
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(UNSUPPORTED_PATH_BODY));

  registerRouteGroups(app, groups);
  if (options.dashboard !== undefined) registerDashboard(app, options.dashboard);
  return app;
}
