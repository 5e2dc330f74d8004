import { ServerError } from '../errors.js';
import { BodySyntaxError } from '../http/body-parser.js';
import { toHttpError } from '../http/error-mapping.js';

/**
 * A refusal in the Secrets Manager API's own terms: the AWS error type (`__type`) and HTTP
 * status clients match on. Its message is written by custos and never holds a secret value.
 *
 * @example
 * ```ts
 * throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
 * ```
 */
export class AwsError extends ServerError {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super('ERR_AWS_REFUSED', message);
    this.type = type;
    this.status = status;
  }
}

/** The secret named does not exist (or is not this server's: a foreign ARN). */
export const notFound = () =>
  new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

/** A parameter is malformed; `message` names the parameter, never its value. */
export const invalidParameter = (message: string) =>
  new AwsError('InvalidParameterException', message);

/** The request is well-formed but not valid for the secret's state. */
export const invalidRequest = (message: string) => new AwsError('InvalidRequestException', message);

/** The secret is marked for deletion: only DescribeSecret, RestoreSecret and DeleteSecret work. */
export const markedForDeletion = () =>
  invalidRequest(
    "You can't perform this operation on the secret because it was marked for deletion.",
  );

/** The error types one AWS service answers custos's own refusals with (by HTTP status). */
export interface AwsErrorTypes {
  readonly notFound: string;
  readonly invalid: string;
  readonly internal: string;
  readonly unavailable: string;
  /** The status a too-large request keeps (Secrets Manager 413, KMS a plain 400). */
  readonly tooLargeStatus: number;
}

/**
 * Any error as the service answers it: an `AwsError` as it is, custos's refusals by status
 * (403 AccessDeniedException, 404 not found, 413 too large, 503 unavailable, other 5xx
 * internal, other 4xx invalid), always 400 for a client error but 413 where the service keeps it.
 *
 * @example
 * ```ts
 * const { type, status, message } = awsErrorWith(err, SECRETS_MANAGER_ERROR_TYPES);
 * ```
 */
export function awsErrorWith(
  error: unknown,
  types: AwsErrorTypes,
): { type: string; status: number; message: string } {
  if (error instanceof AwsError)
    return { type: error.type, status: error.status, message: error.message };
  // AWS's JSON protocols answer a body that is not JSON so, in both APIs.
  if (error instanceof BodySyntaxError)
    return { type: 'SerializationException', status: 400, message: error.message };
  const { status, body } = toHttpError(error);
  const message = String((body.errors as unknown[] | undefined)?.[0] ?? 'request refused');
  switch (status) {
    case 403:
      return { type: 'AccessDeniedException', status: 400, message };
    case 404:
      return { type: types.notFound, status: 400, message: 'not found' };
    case 413:
      return { type: types.invalid, status: types.tooLargeStatus, message };
    case 503:
      return { type: types.unavailable, status: 503, message };
    default:
      return status >= 500
        ? { type: types.internal, status, message }
        : { type: types.invalid, status: 400, message };
  }
}
