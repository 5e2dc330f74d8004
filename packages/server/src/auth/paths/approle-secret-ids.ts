import { CustosError } from '@custos/core/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { noContent, ok } from '../../http/envelope.js';
import { type FieldValues, field } from '../../http/field-schema.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { ApprolesOf, SecretIdInfo } from '../approle-store.js';

/** What a new secret ID may carry beside the role's settings. */
const ISSUE_FIELDS = {
  metadata: field.map(),
  cidr_list: field.commaList(),
  token_bound_cidrs: field.commaList(),
  num_uses: field.int({ strict: true }),
  ttl: field.duration(),
} as const;

const issueOptions = (fields: FieldValues<typeof ISSUE_FIELDS>) => ({
  metadata: fields.metadata,
  cidrList: fields.cidr_list,
  tokenBoundCidrs: fields.token_bound_cidrs,
  ...(fields.num_uses === undefined ? {} : { numUses: fields.num_uses }),
  ...(fields.ttl === undefined ? {} : { ttl: fields.ttl }),
});

/** A lookup's answer: the properties, or 204 when there is no such secret ID (as Vault). */
const answer = (request: FastifyRequest, reply: FastifyReply, info: SecretIdInfo | undefined) =>
  info === undefined ? noContent(reply) : ok(request, reply, { ...info });

/**
 * Secret IDs of a role: `…/secret-id` (a new one, shown once; LIST: their accessors),
 * `…/custom-secret-id` (a chosen one), `…/secret-id/lookup|destroy` (by value) and
 * `…/secret-id-accessor/lookup|destroy` (by accessor).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [approleSecretIdPaths({ approles })]);
 * ```
 */
export function approleSecretIdPaths({ approles }: { readonly approles: ApprolesOf }): RouteGroup {
  const secretId = { secret_id: field.string({ required: true }) };
  const accessor = { secret_id_accessor: field.string({ required: true }) };
  return {
    name: 'auth/approle/secret-ids',
    routes: [
      route({
        method: 'POST',
        path: '/v1/auth/:mount/role/:name/secret-id',
        fields: ISSUE_FIELDS,
        handler: async (request, reply, fields) =>
          ok(
            request,
            reply,
            await approles(request).createSecretId(request.params.name, issueOptions(fields)),
          ),
      }),
      route({
        method: 'GET',
        path: '/v1/auth/:mount/role/:name/secret-id',
        access: { list: true },
        handler: async (request, reply) => {
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const keys = await approles(request).listSecretIds(request.params.name);
          if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { keys });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/:mount/role/:name/custom-secret-id',
        fields: { ...ISSUE_FIELDS, ...secretId },
        handler: async (request, reply, fields) =>
          ok(
            request,
            reply,
            await approles(request).createSecretId(request.params.name, {
              ...issueOptions(fields),
              secretId: fields.secret_id,
            }),
          ),
      }),
      route({
        method: 'POST',
        path: '/v1/auth/:mount/role/:name/secret-id/lookup',
        fields: secretId,
        handler: async (request, reply, fields) =>
          answer(
            request,
            reply,
            await approles(request).lookupSecretId(request.params.name, {
              secretId: fields.secret_id,
            }),
          ),
      }),
      route({
        // POST only: a DELETE reads its fields from the query string, and a secret ID never
        // goes in a URL.
        method: 'POST',
        path: '/v1/auth/:mount/role/:name/secret-id/destroy',
        fields: secretId,
        handler: async (request, reply, fields) => {
          await approles(request).destroySecretId(request.params.name, {
            secretId: fields.secret_id,
          });
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/:mount/role/:name/secret-id-accessor/lookup',
        fields: accessor,
        handler: async (request, reply, fields) => {
          const info = await approles(request).lookupSecretId(request.params.name, {
            accessor: fields.secret_id_accessor,
          });
          if (info === undefined)
            throw new CustosError('ERR_NOT_FOUND', 'no secret ID has that accessor');
          return answer(request, reply, info);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/:mount/role/:name/secret-id-accessor/destroy',
        fields: accessor,
        handler: async (request, reply, fields) => {
          await approles(request).destroySecretId(request.params.name, {
            accessor: fields.secret_id_accessor,
          });
          return noContent(reply);
        },
      }),
    ],
  };
}
