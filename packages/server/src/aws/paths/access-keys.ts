import { CustosError } from '@custos/core/errors';
import { caller } from '../../auth/paths/caller.js';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { optionalDuration, stringList } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { type AccessKeyStore, isAccessKeyId } from '../access-key-store.js';

/** Access key ids have one spelling (upper case): any other is refused before the ACL. */
function checkAccessKeyId(id: string): void {
  if (!isAccessKeyId(id))
    throw new CustosError('ERR_INVALID_REQUEST', 'not an access key id (AKCU and 16 of A-Z, 2-7)');
}

/**
 * `aws/access-key`: issues an access key for the Secrets Manager API, mapped to policies as a
 * token is (at most the caller's policies unless the caller is root). A key made by a token
 * other than root is bound to it: it expires no later than the token and is refused once the
 * token is revoked or its parent is. The secret access key is in this answer and never again.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [accessKeyPaths({ accessKeys })]);
 * ```
 */
export function accessKeyPaths({
  accessKeys,
}: {
  readonly accessKeys: AccessKeyStore;
}): RouteGroup {
  return {
    name: 'aws/access-key',
    routes: [
      route({
        method: 'POST',
        path: '/v1/aws/access-key',
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const parent = caller(request);
          const policies = stringList(body.policies, 'policies');
          if (policies.length === 0)
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              'policies: at least one policy is required',
            );
          if (
            !parent.policies.includes('root') &&
            !policies.every((p) => parent.policies.includes(p))
          )
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              "an access key's policies must be a subset of the caller's policies",
            );
          const ttlSeconds = optionalDuration(body.ttl, 'ttl') ?? 0;
          // A key made by a token other than root is that token's: it dies with it, and those
          // that create no tokens (batch, use-limited) make no keys.
          let creator: { accessor: string; expireTime: number } | undefined;
          if (!parent.policies.includes('root')) {
            if (parent.type === 'batch' || parent.numUses !== 0 || parent.accessor === '')
              throw new CustosError(
                'ERR_INVALID_REQUEST',
                'batch and use-limited tokens cannot create access keys',
              );
            creator = { accessor: parent.accessor, expireTime: parent.expireTime };
          }
          const key = await accessKeys.create({
            policies,
            ttlSeconds,
            ...(creator === undefined ? {} : { creator }),
          });
          return ok(request, reply, {
            access_key_id: key.accessKeyId,
            secret_access_key: key.secretAccessKey,
            policies: key.policies,
            expire_time:
              key.expireTime === 0 ? null : new Date(key.expireTime * 1000).toISOString(),
          });
        },
      }),
      route({
        method: 'DELETE',
        path: '/v1/aws/access-key/:id',
        access: { names: { id: checkAccessKeyId } },
        handler: async (request, reply) => {
          await accessKeys.revoke(request.params.id);
          return reply.code(204).send();
        },
      }),
    ],
  };
}
