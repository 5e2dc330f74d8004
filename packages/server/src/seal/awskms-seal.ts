import { isCustosError } from '@custos/core/errors';
import { createAwsKms } from '@custos/core/kms';
import { ServerError } from '../errors.js';
import { createCloudSeal } from './cloud-seal.js';
import type { RootKeyWrapper } from './root-key-wrapper.js';
import {
  checkEndpoint,
  fieldOrEnv,
  invalidSeal,
  optionalBooleans,
  optionalStrings,
  refuseUnknownFields,
} from './stanza-fields.js';

/**
 * The `seal` stanza of type `awskms`, with Vault's names and environment fallbacks. Absent
 * credentials are left to the AWS SDK's default chain (`AWS_PROFILE` and the shared files, web
 * identity, ECS or EC2 instance roles).
 */
export interface AwsKmsSealConfig {
  readonly type: 'awskms';
  /** Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1` (as Vault). */
  readonly region?: string;
  /** Default: `AWS_ACCESS_KEY_ID` (better there than in the file). */
  readonly access_key?: string;
  /** Default: `AWS_SECRET_ACCESS_KEY`. Never logged. */
  readonly secret_key?: string;
  /** Default: `AWS_SESSION_TOKEN`. Never logged. */
  readonly session_token?: string;
  /** Key id, key ARN, alias name or alias ARN; default `VAULT_AWSKMS_SEAL_KEY_ID`. */
  readonly kms_key_id?: string;
  /** Another endpoint of the KMS API (a VPC endpoint, a custos server); default `AWS_KMS_ENDPOINT`. */
  readonly endpoint?: string;
  /** Vault's name: migrate from this seal back to Shamir unseal keys (docs/operations.md). */
  readonly disabled?: boolean;
}

/** The stanza's fields (Vault's `shared_creds_filename` / `shared_creds_profile`: use `AWS_PROFILE`). */
export const AWSKMS_FIELDS = [
  'type',
  'region',
  'access_key',
  'secret_key',
  'session_token',
  'kms_key_id',
  'endpoint',
  'disabled',
] as const;

/** Validates an `awskms` stanza (types and forms; the environment is read when the seal is made). */
export function parseAwsKmsStanza(s: Record<string, unknown>): AwsKmsSealConfig {
  refuseUnknownFields(s, AWSKMS_FIELDS);
  optionalStrings(s, ['region', 'access_key', 'secret_key', 'session_token', 'kms_key_id']);
  optionalBooleans(s, ['disabled']);
  if (s.endpoint !== undefined) {
    if (typeof s.endpoint !== 'string') invalidSeal('seal.endpoint must be an https URL');
    checkEndpoint('endpoint', s.endpoint as string);
  }
  return s as unknown as AwsKmsSealConfig;
}

/**
 * The SDK's HTTP handler options: an unanswered call must not hold the auto-unseal loop (and
 * the server's shutdown) forever, so it fails after a bound (the SDK only warns unless told to
 * throw) and the loop retries. Options given as a plain object are merged over these; a handler
 * instance is kept as it is.
 */
function handlerOptions(clientConfig: Readonly<Record<string, unknown>>): unknown {
  const given = clientConfig.requestHandler;
  const defaults = { connectionTimeout: 5000, requestTimeout: 10_000, throwOnRequestTimeout: true };
  if (given === undefined) return defaults;
  if (
    typeof given === 'object' &&
    given !== null &&
    Object.getPrototypeOf(given) === Object.prototype
  )
    return { ...defaults, ...given };
  return given;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/(.+)$/;

/**
 * The `awskms` seal: the root key is encrypted by an AWS KMS symmetric key (`Encrypt` with the
 * encryption context `{ purpose: 'custos-seal', cluster }`) through `@aws-sdk/client-kms`, and
 * decrypted at start. Needs `kms:Encrypt` and `kms:Decrypt` on the key, nothing else.
 *
 * @example
 * ```ts
 * const seal = createAwsKmsSeal({ type: 'awskms', region: 'eu-west-1', kms_key_id: 'alias/custos-seal' });
 * ```
 */
export function createAwsKmsSeal(
  config: AwsKmsSealConfig,
  env: NodeJS.ProcessEnv = process.env,
  clientConfig: Readonly<Record<string, unknown>> = {},
  timeoutMs?: number,
): RootKeyWrapper {
  const region =
    fieldOrEnv(config.region, env, ['AWS_REGION', 'AWS_DEFAULT_REGION']) ?? 'us-east-1';
  const keyId = fieldOrEnv(config.kms_key_id, env, ['VAULT_AWSKMS_SEAL_KEY_ID']);
  if (keyId === undefined)
    return invalidSeal(
      'seal.kms_key_id is missing (set it in the seal stanza, or VAULT_AWSKMS_SEAL_KEY_ID in the environment)',
    );
  const endpoint = fieldOrEnv(config.endpoint, env, ['AWS_KMS_ENDPOINT']);
  const endpointUrl = endpoint === undefined ? undefined : checkEndpoint('endpoint', endpoint);
  const accessKeyId = fieldOrEnv(config.access_key, env, ['AWS_ACCESS_KEY_ID']);
  const secretAccessKey = fieldOrEnv(config.secret_key, env, ['AWS_SECRET_ACCESS_KEY']);
  const sessionToken = fieldOrEnv(config.session_token, env, ['AWS_SESSION_TOKEN']);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
    invalidSeal(
      'seal.access_key and seal.secret_key go together (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); leave both out for the SDK default chain',
    );
  const credentials =
    accessKeyId === undefined || secretAccessKey === undefined
      ? {}
      : {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken === undefined ? {} : { sessionToken }),
          },
        };
  let kms: ReturnType<typeof createAwsKms>;
  try {
    kms = createAwsKms({
      keyId,
      region,
      // A URL without a path is given as its origin (no trailing slash for the SDK to double).
      ...(endpointUrl === undefined
        ? {}
        : { endpoint: endpointUrl.pathname === '/' ? endpointUrl.origin : endpointUrl.href }),
      clientConfig: {
        ...clientConfig,
        requestHandler: handlerOptions(clientConfig),
        ...credentials,
      },
    });
  } catch (err) {
    if (isCustosError(err) && err.code === 'ERR_INVALID_ARGUMENT')
      throw new ServerError(
        'ERR_INVALID_CONFIG',
        `config: seal.kms_key_id / seal.region: ${err.message}`,
      );
    throw err;
  }
  const explicit = KEY_ARN.exec(keyId);
  const accepts = (stored: string) => {
    // A key ARN or key id names one key; an alias may have been moved to another key since
    // (AWS's manual rotation): the old key still decrypts what it wrapped.
    if (explicit !== null) return stored === keyId;
    if (keyId.startsWith('alias/') || keyId.startsWith('arn:')) return true;
    return stored.endsWith(`:key/${keyId}`);
  };
  return createCloudSeal({
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    type: 'awskms',
    description: `awskms seal key ${keyId} (region ${region}${endpointUrl === undefined ? '' : `, endpoint ${endpointUrl.origin}`})`,
    open: async () => kms,
    accepts,
    secrets: [secretAccessKey, sessionToken].filter((v): v is string => v !== undefined),
  });
}
