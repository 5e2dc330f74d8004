import { kmsNotFound, kmsValidation } from './kms-error.js';

/** Where the KMS API's keys live and how their ARNs read (docs/aws.md). */
export interface KmsSite {
  /** The transit mount the keys are keys of (`transit`): policy paths start with it. */
  readonly transitMount: string;
  /** The region in ARNs. */
  readonly region: string;
  /** The twelve-digit account in ARNs. */
  readonly accountId: string;
}

/** What a `KeyId` names, read without storage: a transit key, or an alias to resolve. */
export type KeyRef =
  | { readonly kind: 'key'; readonly name: string }
  | { readonly kind: 'alias'; readonly alias: string };

/** A transit key's name (as transit checks it): the key id of the KMS API. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** AWS's alias names: `alias/` and 1–250 of A-Z a-z 0-9 / _ -, no empty segment here. */
const ALIAS = /^alias\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const KEY_ARN = /^arn:aws:kms:([^:]*):([^:]*):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:([^:]*):([^:]*):(alias\/.+)$/;

/**
 * Checks an alias name (`alias/<name>`): AWS's characters, at most 256 in all, and not in the
 * `alias/aws/` space AWS reserves for its own keys. Case is kept: `alias/Foo` and `alias/foo`
 * are two aliases, as in AWS.
 *
 * @example
 * ```ts
 * aliasName('alias/orders'); // 'alias/orders'
 * ```
 */
export function aliasName(value: unknown, field = 'AliasName'): string {
  if (typeof value !== 'string' || value.length > 256 || !ALIAS.test(value))
    throw kmsValidation(
      `${field} must be alias/ followed by 1 to 250 characters of A-Z a-z 0-9 / _ - (no empty segment)`,
    );
  if (value.startsWith('alias/aws/'))
    throw kmsValidation(`${field} must not begin with alias/aws/ (reserved for AWS managed keys)`);
  return value;
}

/**
 * Reads a `KeyId`: a key id (a transit key's name), a key ARN, an alias name or an alias ARN
 * of this server. A name that no transit key can have names nothing (NotFoundException); an
 * ARN of another region or account is refused.
 *
 * @example
 * ```ts
 * keyRefOf(site, 'alias/orders'); // { kind: 'alias', alias: 'alias/orders' }
 * keyRefOf(site, 'arn:aws:kms:us-east-1:000000000000:key/orders'); // { kind: 'key', name: 'orders' }
 * ```
 */
export function keyRefOf(site: KmsSite, id: unknown, field = 'KeyId'): KeyRef {
  if (typeof id !== 'string' || id.length === 0 || id.length > 2048)
    throw kmsValidation(`${field} must be a string of 1 to 2048 characters`);
  const keyArn = KEY_ARN.exec(id);
  const aliasArn = keyArn === null ? ALIAS_ARN.exec(id) : null;
  const arn = keyArn ?? aliasArn;
  if (arn !== null) {
    const [, region, account, rest] = arn as unknown as string[];
    if (region !== site.region || account !== site.accountId)
      throw kmsNotFound(`${field} is an ARN of another region or account`);
    if (aliasArn !== null) return { kind: 'alias', alias: aliasName(rest, field) };
    if (!KEY_NAME.test(rest as string)) throw kmsNotFound(`${field} names no key of this server`);
    return { kind: 'key', name: rest as string };
  }
  if (id.startsWith('arn:')) throw kmsValidation(`${field} is not a KMS key or alias ARN`);
  if (id.startsWith('alias/')) return { kind: 'alias', alias: aliasName(id, field) };
  if (!KEY_NAME.test(id)) throw kmsNotFound(`${field} names no key of this server`);
  return { kind: 'key', name: id };
}

/** A key's ARN. */
export const keyArnOf = (site: KmsSite, name: string) =>
  `arn:aws:kms:${site.region}:${site.accountId}:key/${name}`;

/** An alias's ARN. */
export const aliasArnOf = (site: KmsSite, alias: string) =>
  `arn:aws:kms:${site.region}:${site.accountId}:${alias}`;

/** The policy path an alias is judged on: `aws/kms/alias/<name after alias/>`. */
export const aliasPathOf = (alias: string) => `aws/kms/${alias}`;

/** The folder ListAliases is judged on. */
export const ALIASES_PATH = 'aws/kms/alias/';
