import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeEvents } from '../../events/change-events.js';
import { bodyOf, rawBodyOf } from '../../http/body-parser.js';
import type { SignedAdmission } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { KvEngine } from '../../kv/kv-engine.js';
import type { Capability } from '../../policy/policy-parse.js';
import type { AccessKeyStore } from '../access-key-store.js';
import { AwsError, awsErrorWith } from '../aws-error.js';
import type { KmsDeps } from '../kms/kms-keys.js';
import { type AwsOperation, OPERATIONS } from '../operations.js';
import { changeOfOperation } from '../secret-changes.js';
import type { SecretsManagerSite } from '../secret-id.js';
import type { SecretsRotationDeps } from '../secret-rotation.js';
import { readSigV4Claim, type SignedService, verifySigV4 } from '../sigv4.js';
import { KMS_TARGET_PREFIX, kmsApi, kmsErrorOfAny } from './kms-api.js';

/** What the Secrets Manager API is given. */
export interface SecretsManagerApiDeps {
  readonly kv: KvEngine;
  readonly accessKeys: AccessKeyStore;
  readonly site: SecretsManagerSite;
  /** Where the API is served: `''` (at `/`) or a prefix such as `/aws` (at `/aws/`). */
  readonly pathPrefix: string;
  /** Unix milliseconds. */
  readonly now: () => number;
  /** The KMS API served on the same endpoint (`X-Amz-Target: TrentService.<Op>`). */
  readonly kms: KmsDeps;
  /** Where a change to a secret is published (as a KV write publishes it), for SDK watchers. */
  readonly events: ChangeEvents;
  /** The rotation engine RotateSecret runs (absent: RotateSecret is refused). */
  readonly rotation?: SecretsRotationDeps;
}

const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Whether `prefix` can be the API's path prefix: `''`, or `/segment(/segment)*` of [a-z0-9-],
 * outside the Vault API's `/v1/`.
 */
export const isPathPrefix = (prefix: string) =>
  /^(\/[a-z0-9-]+)*$/.test(prefix) && prefix !== '/v1' && !prefix.startsWith('/v1/');

/** The service `X-Amz-Target` names (what the signature must be scoped to). */
function serviceOf(request: FastifyRequest): SignedService {
  const target = request.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith(KMS_TARGET_PREFIX)
    ? 'kms'
    : 'secretsmanager';
}

/** The KMS operation `X-Amz-Target` names (after {@link serviceOf} said `kms`). */
function kmsOperationName(request: FastifyRequest): string {
  return String(request.headers['x-amz-target']).slice(KMS_TARGET_PREFIX.length);
}

/** The operation `X-Amz-Target` names. */
function operationOf(request: FastifyRequest): { name: string; operation: AwsOperation } {
  const target = request.headers['x-amz-target'];
  const name =
    typeof target === 'string' && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : undefined;
  if (name === undefined || !Object.hasOwn(OPERATIONS, name))
    throw new AwsError('UnknownOperationException', 'X-Amz-Target names no operation of this API');
  return { name, operation: OPERATIONS[name] as AwsOperation };
}

/** A request body: a JSON object. */
function awsBodyOf(request: FastifyRequest): Record<string, unknown> {
  try {
    return bodyOf(request);
  } catch {
    throw new AwsError('SerializationException', 'the request body must be a JSON object');
  }
}

/** Any error as Secrets Manager answers it: its `__type`, status and message. */
export const awsErrorOf = (error: unknown) =>
  awsErrorWith(error, {
    notFound: 'ResourceNotFoundException',
    invalid: 'InvalidRequestException',
    internal: 'InternalServiceError',
    unavailable: 'ServiceUnavailable',
    tooLargeStatus: 413,
  });

function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { type, status, message } =
    serviceOf(request) === 'kms' ? kmsErrorOfAny(error) : awsErrorOf(error);
  if (status >= 500 && status !== 503)
    request.log.error(
      { err: { message: (error as Error).message, code: (error as { code?: string }).code } },
      'request failed',
    );
  return reply
    .code(status)
    .header('content-type', CONTENT_TYPE)
    .header('x-amzn-errortype', type)
    .send({ __type: type, message });
}

/**
 * The Secrets Manager API (AWS's JSON 1.1 protocol): `POST <prefix>/` with
 * `X-Amz-Target: secretsmanager.<operation>`, signed with SigV4 by an access key custos
 * issued — and on the same route the KMS API (`TrentService.<operation>`, paths/kms-api.ts),
 * the signature scoped to the service the target names. The boundary admits it like any
 * request (sealed → refused, the key's policies judged on the KV or transit paths the operation
 * touches, audited first); errors are AWS's `{ __type, message }`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [secretsManagerApiPaths({ kv, accessKeys, site, pathPrefix: '', now, kms, events })]);
 * ```
 */
export function secretsManagerApiPaths(deps: SecretsManagerApiDeps): RouteGroup {
  const url = `${deps.pathPrefix}/`;
  const engine = {
    kv: deps.kv,
    site: deps.site,
    now: deps.now,
    ...(deps.rotation === undefined ? {} : { rotation: deps.rotation }),
  };
  const kms = kmsApi(deps.kms);
  const judged = (checks: readonly { path: string; operation: Capability }[], fallback: string) => {
    const first = checks[0] ?? { path: fallback, operation: 'read' as const };
    return { path: first.path, operation: first.operation, checks };
  };
  // The access key each request's signature claims, as `readSigV4Claim` read it (one reading
  // of the header, told as soon as read): what a refused request is audited under (`refused`).
  const claimedKeys = new WeakMap<FastifyRequest, string>();
  const signed: SignedAdmission = {
    judge(request) {
      // One spelling: no query string, no other path the router would read as this one.
      if (request.url !== url)
        throw new AwsError(
          serviceOf(request) === 'kms' ? 'ValidationException' : 'InvalidRequestException',
          `the AWS APIs are served at ${url} exactly, without a query string`,
        );
      if (serviceOf(request) === 'kms')
        return judged(kms.judge(kmsOperationName(request), awsBodyOf(request)), 'aws/kms');
      const { operation } = operationOf(request);
      return judged(operation.judge(awsBodyOf(request), deps.site), `${deps.site.mount}/data/`);
    },
    refused(request) {
      const claimed = claimedKeys.get(request);
      return {
        path: serviceOf(request) === 'kms' ? 'aws/kms' : 'aws/secretsmanager',
        ...(claimed === undefined ? {} : { credential: claimed }),
      };
    },
    async authenticate(request) {
      const body = rawBodyOf(request);
      // A body sent with another content type was parsed from bytes nobody kept: a signature
      // can only be checked over the bytes that were parsed.
      if (body === undefined)
        throw new AwsError(
          'SerializationException',
          `the request body must be sent as Content-Type: ${CONTENT_TYPE} (AWS's JSON 1.1 protocol)`,
        );
      const signedRequest = { method: request.method, path: url, headers: request.headers, body };
      const claim = readSigV4Claim(signedRequest, {
        nowMs: deps.now(),
        service: serviceOf(request),
        region: deps.site.region,
        claimed: (accessKeyId) => claimedKeys.set(request, accessKeyId),
      });
      const key = await deps.accessKeys.lookup(claim.accessKeyId);
      if (key === undefined)
        throw new AwsError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid (unknown or expired access key).',
          403,
        );
      verifySigV4(signedRequest, claim, key.secretAccessKey);
      return {
        credential: key.accessKeyId,
        identity: {
          accessor: key.accessKeyId,
          displayName: 'aws-access-key',
          policies: [...key.policies],
          meta: {},
        },
        policies: key.policies,
      };
    },
    async resolve(request) {
      if (serviceOf(request) !== 'kms') return undefined;
      return judged(
        await kms.resolve(request, kmsOperationName(request), awsBodyOf(request)),
        'aws/kms',
      );
    },
    auditBody(status, body) {
      if (status < 400) return { data: body };
      const { __type, message } = (body ?? {}) as { __type?: unknown; message?: unknown };
      return { errors: [`${String(__type)}: ${String(message)}`] };
    },
  };
  return {
    name: 'aws/secretsmanager',
    errorHandler: answerError,
    routes: [
      route({
        method: 'POST',
        path: url,
        access: { signed },
        handler: async (request, reply) => {
          if (serviceOf(request) === 'kms') {
            const result = await kms.run(request, kmsOperationName(request), awsBodyOf(request));
            return reply
              .code(200)
              .header('content-type', CONTENT_TYPE)
              .header('x-amzn-requestid', request.id)
              .send(JSON.stringify(result));
          }
          const { name, operation } = operationOf(request);
          const acl = request.custos.acl;
          const body = awsBodyOf(request);
          const result = await operation.run(
            {
              deps: engine,
              allows: (path, capability) => acl?.allowsWithoutParameters(path, capability) === true,
              caller: `aws-access-key:${request.custos.identity?.accessor ?? 'unknown'}`,
            },
            body,
          );
          // The operation committed: watchers learn of it as they learn of a KV write.
          const change = changeOfOperation(name, body, deps.site);
          if (change !== undefined)
            deps.events.publish({ mount: deps.site.mount, engine: 'kv-2', ...change });
          return reply
            .code(200)
            .header('content-type', CONTENT_TYPE)
            .header('x-amzn-requestid', request.id)
            .send(JSON.stringify(result));
        },
      }),
    ],
  };
}
