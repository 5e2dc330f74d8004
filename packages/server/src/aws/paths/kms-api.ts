import type { FastifyRequest } from 'fastify';
import { AwsError, awsErrorWith } from '../aws-error.js';
import type { KmsDeps } from '../kms/kms-keys.js';
import {
  type KeyRole,
  KMS_OPERATIONS,
  type KmsOperation,
  type ResolvedKey,
} from '../kms/kms-operations.js';
import type { Judged } from '../operations.js';

/** The prefix of `X-Amz-Target` that names a KMS operation. */
export const KMS_TARGET_PREFIX = 'TrentService.';

/**
 * The KMS API's part of the AWS endpoint: the operation `X-Amz-Target: TrentService.<Op>`
 * names, judged in two steps. Before authentication, from the body alone (a malformed request
 * is found, nothing is read); after it, with storage: aliases are resolved to the transit keys
 * they name and every check is judged on those keys' transit paths. The keys resolved then are
 * the ones the operation runs on (kept per request), so an alias moved meanwhile cannot make
 * it use a key that was not judged.
 *
 * @example
 * ```ts
 * const kms = kmsApi(deps);
 * const checks = kms.judge('Encrypt', body); // before authentication
 * ```
 */
export function kmsApi(deps: KmsDeps) {
  const resolvedKeys = new WeakMap<FastifyRequest, Record<string, string | undefined>>();

  const operationOf = (name: string): KmsOperation => {
    if (!Object.hasOwn(KMS_OPERATIONS, name))
      throw new AwsError(
        'UnknownOperationException',
        'X-Amz-Target names no operation of this API',
      );
    return KMS_OPERATIONS[name] as KmsOperation;
  };

  return {
    /** Whether `name` is a KMS operation served. */
    has: (name: string) => Object.hasOwn(KMS_OPERATIONS, name),

    /** The checks readable without storage (an alias: a read of the alias, until resolved). */
    judge(name: string, body: Record<string, unknown>): readonly Judged[] {
      const operation = operationOf(name);
      const keys: Partial<Record<KeyRole, ResolvedKey>> = {};
      for (const [role, ref] of Object.entries(operation.refs(body, deps.site)))
        keys[role as KeyRole] =
          ref.kind === 'key' ? { name: ref.name } : { unknownAlias: ref.alias };
      return operation.checks(keys, body, deps.site);
    },

    /** The checks on the keys the request's aliases name now; those keys are kept for `run`. */
    async resolve(request: FastifyRequest, name: string, body: Record<string, unknown>) {
      const operation = operationOf(name);
      const keys: Partial<Record<KeyRole, ResolvedKey>> = {};
      const names: Record<string, string | undefined> = {};
      for (const [role, ref] of Object.entries(operation.refs(body, deps.site))) {
        const target = ref.kind === 'key' ? ref.name : await deps.store.resolveAlias(ref.alias);
        names[role] = target;
        keys[role as KeyRole] =
          target === undefined && ref.kind === 'alias'
            ? { unknownAlias: ref.alias }
            : { name: target as string };
      }
      resolvedKeys.set(request, names);
      return operation.checks(keys, body, deps.site);
    },

    /** Runs the operation on the keys resolved at admission. */
    async run(request: FastifyRequest, name: string, body: Record<string, unknown>) {
      const keys = resolvedKeys.get(request);
      if (keys === undefined) throw new Error('KMS request ran without being admitted');
      return operationOf(name).run(
        {
          deps,
          requestId: request.id,
          displayName: request.custos.identity?.displayName ?? 'aws-access-key',
          keys,
        },
        body,
      );
    },
  };
}

/** The KMS API's refusals as AWS's: its own, or custos's by HTTP status. */
export const kmsErrorOfAny = (error: unknown) =>
  awsErrorWith(error, {
    notFound: 'NotFoundException',
    invalid: 'ValidationException',
    internal: 'KMSInternalException',
    unavailable: 'KMSInternalException',
    tooLargeStatus: 400,
  });
