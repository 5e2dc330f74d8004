import { CustosError, isCustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { clientAddressOf } from '../../http/boundary.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MountEntry, MountTable } from '../../sys/mount-table.js';
import type { ApprolesOf } from '../approle-store.js';
import { authBlock } from '../token-response.js';
import type { TokenStore } from '../token-store.js';

/**
 * `auth/approle/login` (no token): a role ID and secret ID (where the role binds one), from a
 * client address the role's and the secret ID's CIDR blocks allow, for an orphan token with the
 * role's policies (never root) and `default`, bound to the token CIDR blocks.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [approleLoginPaths({ approles, tokens, mounts })]);
 * ```
 */
export function approleLoginPaths({
  approles,
  tokens,
  onLoginFailure,
  mounts,
}: {
  readonly approles: ApprolesOf;
  readonly tokens: TokenStore;
  /** Told of every login the credentials (or the client address) refused (metrics). */
  readonly onLoginFailure?: () => void;
  /** The mount table, asked again once the token exists (a disable may have raced the login). */
  readonly mounts: Pick<MountTable, 'list'>;
}): RouteGroup {
  const stillMounted = async (mount: MountEntry | undefined) =>
    mount === undefined || (await mounts.list()).some((m) => m.uuid === mount.uuid);
  return {
    name: 'auth/approle/login',
    routes: [
      route({
        method: 'POST',
        path: '/v1/auth/:mount/login',
        access: { unauthenticated: true },
        handler: async (request, reply) => {
          const body = bodyOf(request);
          // Kept by hand: the store judges the credentials, so a malformed one is answered as a
          // wrong one.
          const { name, role, tokenBoundCidrs } = await approles(request)
            .login(body.role_id, body.secret_id, clientAddressOf(request))
            .catch((err: unknown) => {
              if (isCustosError(err, 'ERR_INVALID_REQUEST')) onLoginFailure?.();
              throw err;
            });
          const { token, entry } = await tokens.create({
            policies: [...new Set([...role.token_policies.filter((p) => p !== 'root'), 'default'])],
            ...(role.token_ttl > 0 ? { ttlSeconds: role.token_ttl } : {}),
            ...(role.token_max_ttl > 0 ? { explicitMaxTtlSeconds: role.token_max_ttl } : {}),
            ...(role.token_period > 0 ? { periodSeconds: role.token_period } : {}),
            ...(role.token_type === 'batch' ? { type: 'batch' as const } : {}),
            ...(tokenBoundCidrs.length > 0 ? { boundCidrs: tokenBoundCidrs } : {}),
            numUses: role.token_num_uses,
            displayName: `approle-${name}`,
            meta: { role_name: name },
            orphan: true,
            path: `${request.custos.mount?.path ?? 'auth/approle/'}login`,
            ...(request.custos.mount === undefined ? {} : { mount: request.custos.mount.uuid }),
          });
          // A login admitted before its mount was disabled may have created the token after
          // the disable revoked the mount's tokens: the mount is checked again, after the
          // token exists, and the token revoked if the mount is gone (see auth/NOTES.md).
          if (!(await stillMounted(request.custos.mount))) {
            if (entry.type !== 'batch') await tokens.revokeToken(token);
            throw new CustosError('ERR_INVALID_REQUEST', 'the auth method was disabled');
          }
          return ok(request, reply, null, { auth: authBlock(token, entry, tokens.now()) });
        },
      }),
    ],
  };
}
