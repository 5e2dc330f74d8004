import { CustosError } from '@custos/core/errors';
import {
  assertSameCreation,
  describeKey,
  EXPORT_TYPES,
  type ExportType,
  exportKeyMaterial,
} from '@custos/core/internal/transit';
import {
  type CreateTransitKeyOptions,
  isKeyPurpose,
  isKeyState,
  isTransitKeyType,
  KEY_PURPOSES,
  TRANSIT_KEY_TYPES,
} from '@custos/core/kms';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { bodyOf } from '../http/body-parser.js';
import { noContent, ok } from '../http/envelope.js';
import { durationField, optionalBool, optionalInt, timeField } from '../http/fields.js';
import { isListRequest } from '../http/route-access.js';

const nameOf = (request: FastifyRequest) => (request.params as { name: string }).name;

function invalid(message: string): CustosError {
  return new CustosError('ERR_INVALID_REQUEST', message);
}

/**
 * Key creation parameters of `keys/:name`: only those the request names (the rest take their
 * defaults at creation), so a create of an existing key is compared with what was asked for.
 */
export function createOptions(body: Record<string, unknown>): CreateTransitKeyOptions {
  if (body.type !== undefined && !isTransitKeyType(body.type))
    throw invalid(`unknown key type; use one of ${TRANSIT_KEY_TYPES.join(', ')}`);
  if (body.purpose !== undefined && !isKeyPurpose(body.purpose))
    throw invalid(`unknown purpose; use one of ${KEY_PURPOSES.join(', ')}`);
  const options: Record<string, unknown> = {};
  const set = (option: keyof CreateTransitKeyOptions, value: unknown) => {
    if (value !== undefined) options[option] = value;
  };
  set('type', body.type);
  set('purpose', body.purpose);
  set('derived', optionalBool(body.derived, 'derived'));
  set('convergentEncryption', optionalBool(body.convergent_encryption, 'convergent_encryption'));
  set('exportable', optionalBool(body.exportable, 'exportable'));
  set('allowPlaintextBackup', optionalBool(body.allow_plaintext_backup, 'allow_plaintext_backup'));
  set(
    'decryptAfterRevocation',
    optionalBool(body.decrypt_after_revocation, 'decrypt_after_revocation'),
  );
  if (body.auto_rotate_period !== undefined)
    options.autoRotatePeriodSeconds = durationField(body.auto_rotate_period, 'auto_rotate_period');
  const expires = timeField(body.expires_at, 'expires_at');
  if (expires !== undefined) options.expiresAt = expires;
  const rotateAfter = optionalInt(body.rotate_after_encryptions, 'rotate_after_encryptions');
  if (rotateAfter !== undefined) options.rotateAfterEncryptions = rotateAfter;
  return options as CreateTransitKeyOptions;
}

/**
 * Transit key management at `/v1/transit/keys…`, Vault-compatible, plus the custos lifecycle
 * (`…/state`) and usage log (`…/usage`), and backup/restore.
 *
 * @example
 * ```ts
 * registerTransitKeyRoutes(app, ctx);
 * ```
 */
export function registerTransitKeyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const base = '/v1/transit/keys';
  const describe = async (request: FastifyRequest) => {
    const found = await ctx.transit.describe(nameOf(request));
    if (found === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
    return describeKey(found.policy, found.versions, ctx.transit.now().getTime());
  };

  app.get(base, { config: { access: { list: true } } }, async (request, reply) => {
    if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
    const keys = await ctx.transit.list();
    if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
    return ok(request, reply, { keys });
  });

  app.route({
    method: 'POST',
    url: `${base}/:name`,
    config: { access: { exists: (r) => ctx.transit.exists(nameOf(r)) } },
    handler: async (request, reply) => {
      const options = createOptions(bodyOf(request));
      if (!(await ctx.transit.createKey(nameOf(request), options))) {
        // The key exists: fine if it has what was asked for, an error naming the difference if
        // not (creation never changes a key, and must not hide settings someone else chose).
        const existing = await ctx.transit.describe(nameOf(request));
        if (existing !== undefined) assertSameCreation(existing.policy, options);
      }
      return ok(request, reply, await describe(request));
    },
  });

  app.get(`${base}/:name`, async (request, reply) => ok(request, reply, await describe(request)));

  app.delete(`${base}/:name`, async (request, reply) => {
    await ctx.transit.deleteKey(nameOf(request));
    await ctx.transitUsage.forget(nameOf(request));
    return noContent(reply);
  });

  app.route({
    method: 'POST',
    url: `${base}/:name/config`,
    handler: async (request, reply) => {
      const body = bodyOf(request);
      const change: Record<string, unknown> = {};
      const set = (field: string, value: unknown) => {
        if (value !== undefined) change[field] = value;
      };
      set(
        'minDecryptionVersion',
        optionalInt(body.min_decryption_version, 'min_decryption_version'),
      );
      set(
        'minEncryptionVersion',
        optionalInt(body.min_encryption_version, 'min_encryption_version'),
      );
      set('deletionAllowed', optionalBool(body.deletion_allowed, 'deletion_allowed'));
      set('exportable', optionalBool(body.exportable, 'exportable'));
      set(
        'allowPlaintextBackup',
        optionalBool(body.allow_plaintext_backup, 'allow_plaintext_backup'),
      );
      set(
        'decryptAfterRevocation',
        optionalBool(body.decrypt_after_revocation, 'decrypt_after_revocation'),
      );
      set(
        'rotateAfterEncryptions',
        optionalInt(body.rotate_after_encryptions, 'rotate_after_encryptions'),
      );
      set('expiresAt', timeField(body.expires_at, 'expires_at'));
      if (body.auto_rotate_period !== undefined) {
        change.autoRotatePeriodSeconds = durationField(
          body.auto_rotate_period,
          'auto_rotate_period',
        );
      }
      await ctx.transit.configure(nameOf(request), change);
      return ok(request, reply, await describe(request));
    },
  });

  app.route({
    method: 'POST',
    url: `${base}/:name/rotate`,
    handler: async (request, reply) => {
      await ctx.transit.rotate(nameOf(request));
      return ok(request, reply, await describe(request));
    },
  });

  app.route({
    method: 'POST',
    url: `${base}/:name/trim`,
    handler: async (request, reply) => {
      const min = optionalInt(bodyOf(request).min_available_version, 'min_available_version');
      if (min === undefined) throw invalid("missing 'min_available_version'");
      await ctx.transit.trim(nameOf(request), min);
      return ok(request, reply, await describe(request));
    },
  });

  app.route({
    method: 'POST',
    url: `${base}/:name/state`,
    handler: async (request, reply) => {
      const state = bodyOf(request).state;
      if (!isKeyState(state))
        throw invalid('state must be one of active, inactive, rotating, revoked, pending_deletion');
      if (state === 'expired') throw invalid('a key expires by its expires_at, not on request');
      await ctx.transit.setState(nameOf(request), state);
      return ok(request, reply, await describe(request));
    },
  });

  app.get(`${base}/:name/usage`, async (request, reply) => {
    if (!(await ctx.transit.exists(nameOf(request))))
      throw new CustosError('ERR_NOT_FOUND', 'not found');
    const limit = optionalInt((request.query as Record<string, unknown>).limit, 'limit') ?? 100;
    return ok(request, reply, {
      usage: await ctx.transitUsage.read(nameOf(request), Math.min(limit, 10_000)),
    });
  });

  app.get('/v1/transit/backup/:name', async (request, reply) =>
    ok(request, reply, { backup: await ctx.transit.backup(nameOf(request)) }),
  );

  for (const url of ['/v1/transit/restore', '/v1/transit/restore/:name']) {
    app.route({
      method: 'POST',
      url,
      handler: async (request, reply) => {
        const body = bodyOf(request);
        const named = body.name;
        if (named !== undefined && typeof named !== 'string')
          throw invalid('name must be a string');
        // The store checks the name as key creation does ('', 'a/b', '../x' are refused).
        const rename = (request.params as { name?: string }).name ?? named;
        await ctx.transit.restore(body.backup, rename, optionalBool(body.force, 'force') ?? false);
        return noContent(reply);
      },
    });
  }

  app.get('/v1/transit/export/:type/:name', async (request, reply) =>
    exportKey(request, reply, ctx),
  );
  app.get('/v1/transit/export/:type/:name/:version', async (request, reply) =>
    exportKey(request, reply, ctx),
  );
}

async function exportKey(
  request: FastifyRequest,
  reply: Parameters<typeof ok>[1],
  ctx: ServerContext,
) {
  const { type, name, version } = request.params as {
    type: string;
    name: string;
    version?: string;
  };
  if (!(EXPORT_TYPES as readonly string[]).includes(type))
    throw invalid(`invalid export type; use ${EXPORT_TYPES.join(', ')}`);
  const found = await ctx.transit.describe(name);
  if (found === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
  // The lifecycle, the flags, then only versions that still decrypt (see exportKeyMaterial).
  const keys = exportKeyMaterial(
    found.policy,
    found.versions,
    type as ExportType,
    version,
    ctx.transit.now().getTime(),
  );
  return ok(request, reply, { name, type: found.policy.type, keys });
}
