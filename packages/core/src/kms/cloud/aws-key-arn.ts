/** A KMS key ARN, read: `arn:<partition>:kms:<region>:<account>:key/<id>`. */
export interface AwsKeyArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The key id (a UUID at AWS, `mrk-…` for a multi-Region key, a transit key's name at custos). */
  readonly keyId: string;
}

// Partitions (aws, aws-cn, aws-us-gov, aws-iso…), regions, twelve-digit accounts, and key ids
// of characters that can never change a path or a wrapped value's layout (no ':' or '/').
const KEY_ARN =
  /^arn:(aws[a-z-]{0,16}):kms:([a-z0-9-]{1,32}):([0-9]{12}):key\/([A-Za-z0-9._-]{1,128})$/;
const ALIAS_ARN =
  /^arn:aws[a-z-]{0,16}:kms:([a-z0-9-]{1,32}):([0-9]{12}):alias\/[A-Za-z0-9/_-]{1,250}$/;
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const BARE_KEY_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Reads a key ARN, or undefined for anything else (an alias, a bare key id, garbage). */
export function parseKeyArn(value: string): AwsKeyArn | undefined {
  const match = KEY_ARN.exec(value);
  if (match === null) return undefined;
  const [, partition, region, accountId, keyId] = match as unknown as string[];
  return {
    partition: partition as string,
    region: region as string,
    accountId: accountId as string,
    keyId: keyId as string,
  };
}

/**
 * What a configured `KeyId` is: a key ARN, an alias ARN, an alias name or a bare key id. The
 * region and account of an ARN are returned so they can be checked against the configuration.
 */
export type AwsKeyReference =
  | { readonly kind: 'key-arn'; readonly arn: AwsKeyArn }
  | { readonly kind: 'alias-arn'; readonly region: string; readonly accountId: string }
  | { readonly kind: 'alias' }
  | { readonly kind: 'key-id' };

/** Reads a configured `KeyId`, or undefined when it is none of the four forms AWS accepts. */
export function parseKeyReference(value: string): AwsKeyReference | undefined {
  const arn = parseKeyArn(value);
  if (arn !== undefined) return { kind: 'key-arn', arn };
  const alias = ALIAS_ARN.exec(value);
  if (alias !== null) {
    return { kind: 'alias-arn', region: alias[1] as string, accountId: alias[2] as string };
  }
  if (value.startsWith('arn:')) return undefined;
  if (ALIAS.test(value) && !value.includes('//') && !value.endsWith('/')) return { kind: 'alias' };
  if (BARE_KEY_ID.test(value)) return { kind: 'key-id' };
  return undefined;
}

/** Twelve digits: an AWS account id. */
export const AWS_ACCOUNT_ID = /^[0-9]{12}$/;
/** An AWS region name (`eu-west-1`, `us-gov-west-1`, `cn-north-1`). */
export const AWS_REGION = /^[a-z]{2,4}(-[a-z]{2,12}){1,3}-[0-9]{1,2}$/;

/**
 * Why a configured key reference does not fit the region (and account, when one is set), or
 * undefined when it fits: an ARN names its own region and account.
 */
export function keyReferenceMismatch(
  reference: AwsKeyReference,
  region: string,
  accountId: string | undefined,
): string | undefined {
  const of =
    reference.kind === 'key-arn'
      ? reference.arn
      : reference.kind === 'alias-arn'
        ? reference
        : undefined;
  if (of === undefined) return undefined;
  if (of.region !== region) return `is an ARN of region ${of.region}, not ${region}`;
  if (accountId !== undefined && of.accountId !== accountId) {
    return `is an ARN of account ${of.accountId}, not ${accountId}`;
  }
  return undefined;
}
