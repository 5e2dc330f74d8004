import { CustosError, DecryptionFailed } from '../../errors/index.js';
import { type DataKeyContext, dataKeyBinding } from '../../fields/data-key-binding.js';
import type { FieldKms, KmsKeyVersion } from '../../fields/field-kms.js';
import { type AwsKmsOperation, awsFailure } from './aws-errors.js';
import {
  AWS_ACCOUNT_ID,
  AWS_REGION,
  type AwsKeyArn,
  keyReferenceMismatch,
  parseKeyArn,
  parseKeyReference,
} from './aws-key-arn.js';
import { requireDataKey, serviceBytes } from './data-key-context.js';

/**
 * A `KMSClient` of the AWS SDK for JavaScript v3 (`@aws-sdk/client-kms`), as far as the provider
 * uses it: kept structural, as the SDK is an optional peer dependency.
 */
export interface AwsKmsClient {
  send(command: unknown): Promise<unknown>;
  destroy?(): void;
}

/** Options of {@link createAwsKms}. */
export interface AwsKmsOptions {
  /**
   * The symmetric KMS key that wraps data keys: a key id, key ARN, alias name (`alias/…`) or
   * alias ARN. New data keys are made under it; a wrapped key records the ARN of the key that
   * made it, and decrypting names that key.
   */
  readonly keyId: string;
  /** The region the client talks to (`eu-west-1`); an ARN of another region is refused. */
  readonly region: string;
  /**
   * The account the keys must belong to (twelve digits). When set, a configured ARN, a key that
   * answered a GenerateDataKey, and the key a stored wrapped key names must all be of this
   * account: a value pointing at someone else's key is refused before any call. A key or alias
   * ARN as `keyId` sets it implicitly.
   */
  readonly accountId?: string;
  /** Another endpoint speaking the KMS API (a custos server, a VPC endpoint); default AWS's. */
  readonly endpoint?: string;
  /** A client you made (its region and endpoint are then yours to set). */
  readonly client?: AwsKmsClient;
  /** More `KMSClient` configuration when no `client` is given (credentials, maxAttempts…). */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
}

/** A {@link FieldKms} on an AWS KMS key. */
export interface AwsKms extends FieldKms {
  /**
   * Turns on AWS's automatic rotation of the key's material every `days` (90 to 2560):
   * `EnableKeyRotation`, then `GetKeyRotationStatus` to confirm. Earlier data keys keep
   * decrypting (AWS keeps every version); new ones wrap under the newest.
   */
  enableKeyRotation(days: number): Promise<void>;
  /**
   * Wraps a 32-byte key the caller holds (KMS `Encrypt` under the same encryption context as a
   * data key), in the form {@link FieldKms.unwrapDataKey} opens: for a key that must exist
   * before it is wrapped (the custos server's root key under the `awskms` seal). Needs
   * `kms:Encrypt` only; the key ARN KMS answers is checked as `GenerateDataKey`'s is.
   *
   * @example
   * ```ts
   * const wrapped = await kms.wrapKey(rootKey, { sealClusterId: clusterId });
   * const again = await kms.unwrapDataKey(wrapped, { sealClusterId: clusterId });
   * ```
   */
  wrapKey(key: Buffer, context: DataKeyContext): Promise<string>;
  /** Releases the client's connections (not those of a `client` you passed). */
  close(): Promise<void>;
}

interface KmsModule {
  KMSClient: new (config: Record<string, unknown>) => AwsKmsClient;
  GenerateDataKeyCommand: new (input: Record<string, unknown>) => unknown;
  DecryptCommand: new (input: Record<string, unknown>) => unknown;
  EncryptCommand: new (input: Record<string, unknown>) => unknown;
  DescribeKeyCommand: new (input: Record<string, unknown>) => unknown;
  EnableKeyRotationCommand: new (input: Record<string, unknown>) => unknown;
  GetKeyRotationStatusCommand: new (input: Record<string, unknown>) => unknown;
}

/** The SDK module, named in a variable: an optional peer dependency, loaded on first use. */
const SDK_MODULE = '@aws-sdk/client-kms';
// The wrapped form: format version 1, the ARN of the key that made it, AWS's ciphertext blob.
const WRAPPED =
  /^aws-kms:v1:(arn:aws[a-z-]{0,16}:kms:[a-z0-9-]{1,32}:[0-9]{12}:key\/[A-Za-z0-9._-]{1,128}):([A-Za-z0-9_-]+)$/;
/** AWS keeps key versions to itself: every key reads as version 1 (rotation needs no reencrypt). */
const AWS_KEY_VERSION = 1;

let sdkModule: Promise<KmsModule> | undefined;

/** Loads the SDK once; a clear error (and a new attempt next time) when it is not installed. */
function loadSdk(): Promise<KmsModule> {
  sdkModule ??= (import(SDK_MODULE) as Promise<KmsModule>).catch((err: unknown) => {
    sdkModule = undefined;
    throw new CustosError(
      'ERR_KMS_PROVIDER_MISSING',
      `the AWS KMS provider needs the optional peer dependency ${SDK_MODULE}: npm install ${SDK_MODULE}`,
      { cause: err },
    );
  });
  return sdkModule;
}

/**
 * The encryption context a data key is bound to: purpose, and the tenant when there is one (a
 * backup's file key: `{ purpose: 'custos-backup', file }`, see `dataKeyBinding`). AWS
 * authenticates it with the key (and logs it in CloudTrail): only the same context decrypts.
 * Key policies can condition on it (`kms:EncryptionContext:tenant`,
 * `kms:EncryptionContext:purpose`).
 *
 * @example
 * ```ts
 * awsEncryptionContext({ tenantId: 'acme' }); // { purpose: 'field-data-key', tenant: 'acme' }
 * ```
 */
export function awsEncryptionContext(context: DataKeyContext): Record<string, string> {
  return { ...dataKeyBinding(context) };
}

/**
 * A field-encryption KMS on an AWS KMS symmetric key, through the official
 * `@aws-sdk/client-kms` v3 (an optional peer dependency, loaded on first use): the same code
 * talks to AWS or, with `endpoint`, to a custos server's KMS API. Data keys come from
 * `GenerateDataKey` (AES_256) bound to the encryption context `{purpose, tenant}`, and are
 * stored as `aws-kms:v1:<key ARN>:<base64url ciphertext blob>`; `Decrypt` names that key and
 * the same context, so another tenant's context, or another key, does not open them.
 *
 * AWS hides key versions: rotation (see {@link AwsKms.enableKeyRotation}) is transparent and
 * needs no `custos reencrypt`, so every data key reads as version 1 of its key's ARN. Moving to
 * another key (a new `keyId`) makes older values not current for `custos reencrypt`.
 * `currentKey` learns the ARN with one `DescribeKey` unless `keyId` is a key ARN.
 *
 * Errors: `ERR_KMS_PROVIDER_MISSING` (no SDK), `ERR_KMS_LOGIN_FAILED` (credentials refused or
 * missing), `ERR_PERMISSION_DENIED`, `ERR_KEY_NOT_FOUND`, `ERR_KEY_DISABLED` (disabled or
 * pending deletion), `ERR_DECRYPTION_FAILED` (another context, a damaged blob, a key of another
 * region or account than configured), `ERR_MALFORMED_CIPHERTEXT`, `ERR_KMS_PROVIDER` (anything
 * else). Messages carry AWS's exception name, never a value.
 *
 * @example
 * ```ts
 * const kms = createAwsKms({ keyId: 'alias/app-fields', region: 'eu-west-1' });
 * const fc = createFieldCipher({ kms: createCachingKms(kms) });
 * ```
 */
export function createAwsKms(options: AwsKmsOptions): AwsKms {
  const { keyId, region } = options;
  if (typeof region !== 'string' || !AWS_REGION.test(region)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'region must be an AWS region such as eu-west-1');
  }
  if (options.accountId !== undefined && !AWS_ACCOUNT_ID.test(options.accountId)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'accountId must be twelve digits');
  }
  const reference = typeof keyId === 'string' ? parseKeyReference(keyId) : undefined;
  if (reference === undefined) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'keyId must be a KMS key id, key ARN, alias name (alias/…) or alias ARN',
    );
  }
  const mismatch = keyReferenceMismatch(reference, region, options.accountId);
  if (mismatch !== undefined) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `keyId ${mismatch}`);
  }
  const configuredArn = reference.kind === 'key-arn' ? reference.arn : undefined;
  // An ARN names its account: a key or alias ARN as keyId pins it as accountId would.
  const accountId =
    options.accountId ??
    (reference.kind === 'key-arn'
      ? reference.arn.accountId
      : reference.kind === 'alias-arn'
        ? reference.accountId
        : undefined);

  let connection: Promise<{ sdk: KmsModule; client: AwsKmsClient }> | undefined;
  const connect = () => {
    connection ??= loadSdk().then(
      (sdk) => ({
        sdk,
        client:
          options.client ??
          new sdk.KMSClient({
            ...options.clientConfig,
            region,
            ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          }),
      }),
      (err: unknown) => {
        connection = undefined;
        throw err;
      },
    );
    return connection;
  };
  const call = async <T>(
    operation: AwsKmsOperation,
    doing: string,
    input: Record<string, unknown>,
  ): Promise<T> => {
    const { sdk, client } = await connect();
    const command = new sdk[`${operation}Command`](input);
    try {
      return (await client.send(command)) as T;
    } catch (err) {
      throw awsFailure(err, doing, operation);
    }
  };

  /** The key ARN an answer named, checked against region, account and the configured key. */
  const answeredArn = (value: unknown, operation: AwsKmsOperation): string => {
    const arn = typeof value === 'string' ? parseKeyArn(value) : undefined;
    const refusal =
      arn === undefined
        ? 'without the ARN of the key it used'
        : (foreignKey(arn, region, accountId) ??
          (configuredArn !== undefined && value !== keyId
            ? 'with another key than the configured one'
            : reference.kind === 'key-id' && arn.keyId !== keyId
              ? 'with another key than the configured one'
              : undefined));
    if (refusal !== undefined) {
      throw new CustosError('ERR_KMS_PROVIDER', `KMS ${operation} answered ${refusal}`);
    }
    return value as string;
  };

  let current: Promise<string> | undefined;
  const currentArn = () => {
    if (configuredArn !== undefined) return Promise.resolve(keyId);
    current ??= call<{ KeyMetadata?: { Arn?: unknown } }>('DescribeKey', 'finding the key ARN', {
      KeyId: keyId,
    }).then(
      (answer) => answeredArn(answer.KeyMetadata?.Arn, 'DescribeKey'),
      (err: unknown) => {
        current = undefined;
        throw err;
      },
    );
    return current;
  };

  return {
    async generateDataKey(context) {
      const answer = await call<{ KeyId?: unknown; Plaintext?: unknown; CiphertextBlob?: unknown }>(
        'GenerateDataKey',
        'generating a data key',
        { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: awsEncryptionContext(context) },
      );
      const plaintext = dataKeyOf(answer.Plaintext);
      try {
        const arn = answeredArn(answer.KeyId, 'GenerateDataKey');
        const blob = serviceBytes(answer.CiphertextBlob, 'a ciphertext blob');
        return { plaintext, wrapped: `aws-kms:v1:${arn}:${blob.toString('base64url')}` };
      } catch (err) {
        plaintext.fill(0);
        throw err;
      }
    },
    async unwrapDataKey(wrapped, context) {
      const { arn, blob } = parseWrapped(wrapped);
      const refusal = foreignKey(parseKeyArn(arn) as AwsKeyArn, region, accountId);
      if (refusal !== undefined) {
        throw new DecryptionFailed(
          `decryption failed: the data key was wrapped by a key ${refusal}; it is not sent to KMS`,
        );
      }
      const answer = await call<{ KeyId?: unknown; Plaintext?: unknown }>(
        'Decrypt',
        'unwrapping a data key',
        { KeyId: arn, CiphertextBlob: blob, EncryptionContext: awsEncryptionContext(context) },
      );
      const plaintext = dataKeyOf(answer.Plaintext);
      if (answer.KeyId !== arn) {
        plaintext.fill(0);
        throw new DecryptionFailed('decryption failed: KMS decrypted with another key than named');
      }
      return plaintext;
    },
    async wrapKey(key, context) {
      if (!Buffer.isBuffer(key) || key.length !== 32) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'wrapKey takes a 32-byte key');
      }
      const answer = await call<{ KeyId?: unknown; CiphertextBlob?: unknown }>(
        'Encrypt',
        'wrapping a key',
        { KeyId: keyId, Plaintext: key, EncryptionContext: awsEncryptionContext(context) },
      );
      const arn = answeredArn(answer.KeyId, 'Encrypt');
      const blob = serviceBytes(answer.CiphertextBlob, 'a ciphertext blob');
      return `aws-kms:v1:${arn}:${blob.toString('base64url')}`;
    },
    describeWrappedKey(wrapped): KmsKeyVersion {
      return { keyId: parseWrapped(wrapped).arn, keyVersion: AWS_KEY_VERSION };
    },
    async currentKey() {
      return { keyId: await currentArn(), keyVersion: AWS_KEY_VERSION };
    },
    async enableKeyRotation(days) {
      if (!Number.isInteger(days) || days < 90 || days > 2560) {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          'AWS KMS rotates every 90 to 2560 days: the rotation period is out of range',
        );
      }
      // Rotation calls take a key id or key ARN, never an alias.
      const arn = await currentArn();
      await call('EnableKeyRotation', 'enabling key rotation', {
        KeyId: arn,
        RotationPeriodInDays: days,
      });
      const status = await call<{ KeyRotationEnabled?: unknown; RotationPeriodInDays?: unknown }>(
        'GetKeyRotationStatus',
        'reading the key rotation status',
        { KeyId: arn },
      );
      if (status.KeyRotationEnabled !== true || status.RotationPeriodInDays !== days) {
        throw new CustosError(
          'ERR_KMS_PROVIDER',
          `KMS did not record rotation every ${days} days for the key`,
        );
      }
    },
    async close() {
      if (options.client === undefined && connection !== undefined) {
        const opened = await connection.catch(() => undefined);
        opened?.client.destroy?.();
      }
      connection = undefined;
    },
  };
}

/** Why `arn` is not a key this provider may use (another region, another account), if so. */
function foreignKey(arn: AwsKeyArn, region: string, accountId: string | undefined) {
  if (arn.region !== region) return `of region ${arn.region}, not ${region}`;
  if (accountId !== undefined && arn.accountId !== accountId) {
    return `of account ${arn.accountId}, not ${accountId}`;
  }
  return undefined;
}

/** A copy of the data key the SDK decoded; the SDK's own bytes are zeroed. */
function dataKeyOf(value: unknown): Buffer {
  const decoded = serviceBytes(value, 'a plaintext');
  const key = Buffer.from(decoded);
  decoded.fill(0);
  return requireDataKey(key);
}

function parseWrapped(wrapped: string): { arn: string; blob: Buffer } {
  const match = typeof wrapped === 'string' ? WRAPPED.exec(wrapped) : null;
  if (match === null) {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      'the wrapped data key is not an aws-kms:v1:<key ARN>:<base64url> value',
    );
  }
  return { arn: match[1] as string, blob: Buffer.from(match[2] as string, 'base64url') };
}
