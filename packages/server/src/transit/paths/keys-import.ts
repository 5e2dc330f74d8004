import { CustosError } from '@custos/core/errors';
import {
  IMPORTABLE_KEY_TYPES,
  importedKeyVersion,
  unwrapImportedKey,
} from '@custos/core/internal/transit';
import { isKeyPurpose, isTransitKeyType, KEY_PURPOSES } from '@custos/core/kms';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import {
  type ImportedVersion,
  type TransitImports,
  wrappingPublicKey,
} from '../transit-imports.js';
import type { TransitPathDeps } from './deps.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** The fields both import routes take: the wrapped key and the OAEP hash of its wrapping. */
const WRAPPED_FIELDS = {
  ciphertext: field.base64(),
  hash_function: field.string(),
} as const;

/** Fields of Vault's import routes that custos does not serve: refused, never ignored. */
function refuseUnsupported(body: Record<string, unknown>, names: readonly string[]): void {
  const named = names.filter((name) => body[name] !== undefined);
  if (named.length > 0)
    throw invalid(
      `${named.join(', ')} ${named.length === 1 ? 'is' : 'are'} not supported: import a private key (ciphertext); each import_version adds a new version`,
    );
}

/**
 * Unwraps the request's key and runs `work` with the version builder the store calls (more than
 * once if its transaction is retried); the unwrapped bytes are wiped when `work` is done.
 */
async function withImportedMaterial<T>(
  transit: Pick<TransitImports, 'wrappingKey'> & { readonly now: () => Date },
  ciphertext: Buffer | undefined,
  hashFunction: string | undefined,
  work: (build: ImportedVersion) => Promise<T>,
): Promise<T> {
  if (ciphertext === undefined || ciphertext.length === 0) throw invalid('missing ciphertext');
  const material = unwrapImportedKey(
    await transit.wrappingKey(),
    ciphertext,
    hashFunction ?? 'SHA256',
  );
  try {
    return await work((type, version) =>
      importedKeyVersion(type, material, version, transit.now()),
    );
  } finally {
    material.fill(0);
  }
}

/**
 * BYOK, as Vault's transit: `transit/wrapping_key` (the RSA-4096 public key to wrap keys for),
 * `transit/keys/:name/import` (a new key from wrapped material) and
 * `transit/keys/:name/import_version` (a new version of an imported key).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [keysImportPaths({ transitOf })]);
 * ```
 */
export function keysImportPaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/keys/import',
    routes: [
      route({
        method: 'GET',
        path: '/v1/:mount/wrapping_key',
        handler: async (request, reply) => {
          const { transit, settle } = transitOf(request);
          // Made on first use: written into the mount's area like a key.
          const wrappingKey = await transit.wrappingKey();
          await settle();
          return ok(request, reply, { public_key: wrappingPublicKey(wrappingKey) });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/:mount/keys/:name/import',
        fields: {
          ...WRAPPED_FIELDS,
          allow_rotation: field.bool({ default: false }),
          derived: field.bool(),
          exportable: field.bool(),
          allow_plaintext_backup: field.bool(),
          decrypt_after_revocation: field.bool(),
          auto_rotate_period: field.duration(),
          expires_at: field.time(),
        },
        handler: async (request, reply, fields) => {
          const { transit } = transitOf(request);
          const { name } = request.params;
          const body = bodyOf(request);
          if (body.convergent_encryption !== undefined)
            throw invalid('import cannot be used on keys with convergent encryption enabled');
          refuseUnsupported(body, ['public_key', 'context']);
          const type = body.type ?? 'aes256-gcm96';
          if (!isTransitKeyType(type) || !IMPORTABLE_KEY_TYPES.includes(type))
            throw invalid(`unknown key type; use one of ${IMPORTABLE_KEY_TYPES.join(', ')}`);
          if (body.purpose !== undefined && !isKeyPurpose(body.purpose))
            throw invalid(`unknown purpose; use one of ${KEY_PURPOSES.join(', ')}`);
          if ((fields.auto_rotate_period ?? 0) > 0 && !fields.allow_rotation)
            throw invalid('allow_rotation must be set to true if auto-rotation is enabled');
          if (await transit.exists(name)) throw existing();
          const options = Object.fromEntries(
            Object.entries({
              type,
              purpose: body.purpose,
              derived: fields.derived,
              exportable: fields.exportable,
              allowPlaintextBackup: fields.allow_plaintext_backup,
              decryptAfterRevocation: fields.decrypt_after_revocation,
              autoRotatePeriodSeconds: fields.auto_rotate_period,
              expiresAt: fields.expires_at,
            }).filter(([, value]) => value !== undefined),
          );
          const created = await withImportedMaterial(
            transit,
            fields.ciphertext,
            fields.hash_function,
            (build) => transit.importKey(name, options, fields.allow_rotation, build),
          );
          await transitOf(request).settle();
          if (!created) throw existing();
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/:mount/keys/:name/import_version',
        fields: WRAPPED_FIELDS,
        handler: async (request, reply, fields) => {
          const { transit } = transitOf(request);
          refuseUnsupported(bodyOf(request), ['public_key', 'version', 'bump_version']);
          await withImportedMaterial(transit, fields.ciphertext, fields.hash_function, (build) =>
            transit.importVersion(request.params.name, build),
          );
          await transitOf(request).settle();
          return noContent(reply);
        },
      }),
    ],
  };
}

function existing(): CustosError {
  return invalid(
    'the import path cannot be used with an existing key; use import_version to rotate an existing imported key',
  );
}
