import { ServerError } from '../errors.js';

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
