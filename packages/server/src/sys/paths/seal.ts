import { CustosError } from '@custos/core/errors';
import type { TokenStore } from '../../auth/token-store.js';
import { bodyOf } from '../../http/body-parser.js';
import { noContent } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { initialize, sealServer } from '../../lifecycle.js';
import type { SealManager } from '../../seal/seal-manager.js';
import type { StorageKind } from '../../storage/storage-kind.js';

/** What the seal paths use. */
export interface SealPathDeps {
  readonly seal: SealManager;
  readonly tokens: TokenStore;
  readonly storageKind: StorageKind;
  readonly version: string;
}

const open = { unauthenticated: true, whileSealed: true } as const;

/**
 * The seal status as `sys/seal-status` and `sys/unseal` answer it.
 *
 * @example
 * ```ts
 * reply.send(sealStatus(deps));
 * ```
 */
export function sealStatus({ seal, version, storageKind }: SealPathDeps) {
  const status = seal.status();
  return {
    type: seal.sealType(),
    initialized: status.initialized,
    sealed: status.sealed,
    t: status.t,
    n: status.n,
    progress: status.progress,
    nonce: status.nonce,
    version,
    build_date: '',
    migration: seal.migrationPending(),
    recovery_seal: seal.isRecoverySeal(),
    storage_type: storageKind,
    // Vault names the cluster once unsealed (as sys/health does); typed clients require it.
    ...(status.sealed ? {} : { cluster_name: 'custos', cluster_id: '' }),
  };
}

/**
 * Parses an unseal key given as hex or base64.
 *
 * @example
 * ```ts
 * shareOf(body.key); // the share's bytes
 * ```
 */
export function shareOf(value: unknown): Buffer {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CustosError('ERR_INVALID_REQUEST', "missing 'key' (an unseal key, hex or base64)");
  }
  const text = value.trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return Buffer.from(text, 'base64');
  throw new CustosError('ERR_INVALID_REQUEST', 'unseal key must be hex or base64');
}

/**
 * Init options custos does not support, and whether a value of each is absent-equivalent: Vault's
 * Go client and CLI always send them (`pgp_keys: null`, `root_token_pgp_key: ""`,
 * `recovery_shares: 0`, …), so only a real value (a PGP key, a share count) is refused.
 */
const UNSUPPORTED_INIT: Readonly<Record<string, (value: unknown) => boolean>> = {
  pgp_keys: isAbsentList,
  recovery_pgp_keys: isAbsentList,
  root_token_pgp_key: (value) => value === '',
  stored_shares: (value) => value === 0,
};

function isAbsentList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

/**
 * `sys/init`, `sys/unseal`, `sys/seal-status` (no token, answered while sealed) and `sys/seal`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [sealPaths(deps)]);
 * ```
 */
export function sealPaths(deps: SealPathDeps): RouteGroup {
  const { seal } = deps;
  return {
    name: 'sys/seal',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/init',
        access: open,
        handler: async (_request, reply) => reply.send({ initialized: seal.isInitialized() }),
      }),
      route({
        method: 'POST',
        path: '/v1/sys/init',
        access: open,
        handler: async (request, reply) => {
          // Kept by hand: Vault's init refuses its unsupported options unless absent-equivalent
          // (whatever their type), and takes the share counts as JSON numbers only, with one refusal naming both.
          const body = bodyOf(request);
          for (const [unsupported, absent] of Object.entries(UNSUPPORTED_INIT)) {
            const value = body[unsupported];
            if (value !== undefined && value !== null && !absent(value)) {
              throw new CustosError(
                'ERR_INVALID_REQUEST',
                `${unsupported} is not supported by custos`,
              );
            }
          }
          // Auto-unseal: the recovery counts are what is split (Vault's `recovery_shares`);
          // Shamir: the unseal counts. The other pair must be absent (Vault's clients send 0).
          const recovery = seal.isRecoverySeal();
          const [sharesField, thresholdField, otherShares, otherThreshold] = recovery
            ? ['recovery_shares', 'recovery_threshold', 'secret_shares', 'secret_threshold']
            : ['secret_shares', 'secret_threshold', 'recovery_shares', 'recovery_threshold'];
          for (const field of [otherShares, otherThreshold] as const) {
            const value = body[field];
            if (value !== undefined && value !== null && value !== 0)
              throw new CustosError(
                'ERR_INVALID_REQUEST',
                recovery
                  ? `${field} is not used with an auto-unseal seal: give recovery_shares and recovery_threshold`
                  : `${field} applies only with an auto-unseal seal: give secret_shares and secret_threshold`,
              );
          }
          const shares = body[sharesField];
          const threshold = body[thresholdField];
          if (typeof shares !== 'number' || typeof threshold !== 'number') {
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              `${sharesField} and ${thresholdField} must be numbers`,
            );
          }
          const { keyShares, rootToken } = await initialize(deps, shares, threshold);
          const hex = keyShares.map((k) => k.toString('hex'));
          const base64 = keyShares.map((k) => k.toString('base64'));
          return reply.send(
            recovery
              ? {
                  keys: [],
                  keys_base64: [],
                  recovery_keys: hex,
                  recovery_keys_base64: base64,
                  root_token: rootToken,
                }
              : { keys: hex, keys_base64: base64, root_token: rootToken },
          );
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/unseal',
        access: open,
        handler: async (request, reply) => {
          // Kept by hand: the key is hex or base64 (shareOf), and only a JSON `true` resets.
          const body = bodyOf(request);
          if (body.reset === true) {
            seal.resetProgress();
            return reply.send(sealStatus(deps));
          }
          // Auto-unseal: a sealed server (after sys/seal) asks its seal again; no key is taken.
          if (seal.isRecoverySeal() && !seal.migrationPending()) await seal.autoUnseal();
          else await seal.submitShare(shareOf(body.key), { migrate: body.migrate === true });
          return reply.send(sealStatus(deps));
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/seal-status',
        access: open,
        handler: async (_request, reply) => reply.send(sealStatus(deps)),
      }),
      route({
        method: 'POST',
        path: '/v1/sys/seal',
        access: { sudo: true },
        handler: async (_request, reply) => {
          // The response is audited before the keys go; the seal happens once it is sent.
          reply.raw.once('finish', () => void sealServer(deps));
          return noContent(reply);
        },
      }),
    ],
  };
}
