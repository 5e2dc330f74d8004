import { CustosError } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { noContent, ok } from '../http/envelope.js';
import { initialize, sealServer } from '../lifecycle.js';

const open = { unauthenticated: true, whileSealed: true } as const;

function sealStatus(ctx: ServerContext) {
  const status = ctx.seal.status();
  return {
    type: 'shamir',
    initialized: status.initialized,
    sealed: status.sealed,
    t: status.t,
    n: status.n,
    progress: status.progress,
    nonce: status.nonce,
    version: ctx.version,
    build_date: '',
    migration: false,
    recovery_seal: false,
    storage_type: ctx.storage.kind,
  };
}

/** Parses an unseal key given as hex or base64. */
function shareOf(value: unknown): Buffer {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CustosError('ERR_INVALID_REQUEST', "missing 'key' (an unseal key, hex or base64)");
  }
  const text = value.trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return Buffer.from(text, 'base64');
  throw new CustosError('ERR_INVALID_REQUEST', 'unseal key must be hex or base64');
}

function healthCode(request: FastifyRequest, name: string, fallback: number): number {
  const raw = (request.query as Record<string, unknown>)[name];
  const n = typeof raw === 'string' ? Number(raw) : Number.NaN;
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : fallback;
}

/**
 * `sys/init`, `sys/unseal`, `sys/seal`, `sys/seal-status`, `sys/health`.
 *
 * @example
 * ```ts
 * registerSealRoutes(app, ctx);
 * ```
 */
export function registerSealRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/sys/init', { config: { access: open } }, async (_request, reply) =>
    reply.send({ initialized: ctx.seal.isInitialized() }),
  );

  app.route({
    method: 'POST',
    url: '/v1/sys/init',
    config: { access: open },
    handler: async (request, reply) => {
      const body = bodyOf(request);
      for (const unsupported of [
        'pgp_keys',
        'root_token_pgp_key',
        'recovery_shares',
        'recovery_threshold',
      ]) {
        if (body[unsupported] !== undefined) {
          throw new CustosError('ERR_INVALID_REQUEST', `${unsupported} is not supported by custos`);
        }
      }
      const shares = body.secret_shares;
      const threshold = body.secret_threshold;
      if (typeof shares !== 'number' || typeof threshold !== 'number') {
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          'secret_shares and secret_threshold must be numbers',
        );
      }
      const { keyShares, rootToken } = await initialize(ctx, shares, threshold);
      return reply.send({
        keys: keyShares.map((k) => k.toString('hex')),
        keys_base64: keyShares.map((k) => k.toString('base64')),
        root_token: rootToken,
      });
    },
  });

  app.route({
    method: 'POST',
    url: '/v1/sys/unseal',
    config: { access: open },
    handler: async (request, reply) => {
      const body = bodyOf(request);
      if (body.reset === true) {
        ctx.seal.resetProgress();
        return reply.send(sealStatus(ctx));
      }
      await ctx.seal.submitShare(shareOf(body.key));
      return reply.send(sealStatus(ctx));
    },
  });

  app.get('/v1/sys/seal-status', { config: { access: open } }, async (_request, reply) =>
    reply.send(sealStatus(ctx)),
  );

  app.route({
    method: 'POST',
    url: '/v1/sys/seal',
    config: { access: { sudo: true } },
    handler: async (_request, reply) => {
      // The response is audited before the keys go; the seal happens once it is sent.
      reply.raw.once('finish', () => void sealServer(ctx));
      return noContent(reply);
    },
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/v1/sys/health',
    config: { access: { ...open, audit: false } },
    handler: async (request, reply) => {
      const status = ctx.seal.status();
      const code = !status.initialized
        ? healthCode(request, 'uninitcode', 501)
        : status.sealed
          ? healthCode(request, 'sealedcode', 503)
          : healthCode(request, 'activecode', 200);
      return reply.code(code).send({
        initialized: status.initialized,
        sealed: status.sealed,
        standby: false,
        performance_standby: false,
        replication_performance_mode: 'disabled',
        replication_dr_mode: 'disabled',
        server_time_utc: Math.floor(Date.now() / 1000),
        version: ctx.version,
        cluster_name: 'custos',
        cluster_id: '',
      });
    },
  });

  app.route({
    method: 'POST',
    url: '/v1/sys/rotate',
    config: { access: { sudo: true } },
    handler: async (_request, reply) => {
      await ctx.seal.rotateBarrierKey();
      return noContent(reply);
    },
  });

  app.get('/v1/sys/key-status', async (request, reply) => {
    const info = ctx.seal.keyring().info('barrier');
    const primary = info.versions.find((v) => v.version === info.primaryVersion);
    return ok(request, reply, {
      term: info.primaryVersion,
      install_time: primary?.createdAt ?? '',
    });
  });
}
