import { createHash } from 'node:crypto';
import type { KeyMetadata } from '../kv/kv-metadata.js';
import { invalidParameter } from './aws-error.js';

/** Where the Secrets Manager API's secrets live and how their ARNs read (docs/aws.md). */
export interface SecretsManagerSite {
  /** The KV version 2 mount the secrets are keys of (`secret`). */
  readonly mount: string;
  /** The region ARNs name (`us-east-1` unless configured). */
  readonly region: string;
  /** The twelve-digit account ARNs name. */
  readonly accountId: string;
}

/** What a `SecretId` (a name or an ARN) names, read without storage. */
export interface SecretRef {
  readonly name: string;
  /** The six characters an ARN ended with, checked against the secret once it is read. */
  readonly arnSuffix?: string;
}

const MAX_NAME_LENGTH = 512;
/** AWS's characters for a new secret's name. */
const NEW_NAME = /^[A-Za-z0-9/_+=.@-]+$/;
const ARN = /^arn:aws:secretsmanager:([^:]*):([^:]*):secret:(.+)-([A-Za-z0-9]{6})$/;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A name as a KV key: what the KV API would accept as a path (no empty, `.` or `..` segment,
 * no control character, no trailing `/`), so a secret has one name in both APIs.
 */
function checkKvKey(name: string, field: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name))
    throw invalidParameter(`${field} must be 1 to ${MAX_NAME_LENGTH} printable characters`);
  if (name.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw invalidParameter(`${field} must not have an empty, "." or ".." path segment`);
}

/**
 * The name a new secret may have: AWS's characters (`A-Z a-z 0-9 / _ + = . @ -`), up to 512,
 * and a valid KV key.
 *
 * @example
 * ```ts
 * newSecretName('prod/db'); // 'prod/db'
 * ```
 */
export function newSecretName(name: unknown): string {
  if (typeof name !== 'string') throw invalidParameter('Name must be a string');
  checkKvKey(name, 'Name');
  if (!NEW_NAME.test(name))
    throw invalidParameter('Name may contain only letters, digits and /_+=.@-');
  return name;
}

/**
 * Reads a `SecretId`: an ARN of this server (`arn:aws:secretsmanager:<region>:<account>:secret:
 * <name>-<6 characters>`) or a name. A foreign ARN names nothing here.
 *
 * @example
 * ```ts
 * secretRefOf(site, 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbC123');
 * // { name: 'db', arnSuffix: 'AbC123' }
 * ```
 */
export function secretRefOf(site: SecretsManagerSite, id: unknown, field = 'SecretId'): SecretRef {
  if (typeof id !== 'string') throw invalidParameter(`${field} must be a string`);
  const arn = ARN.exec(id);
  if (arn !== null) {
    const [, region, account, name, suffix] = arn as unknown as string[];
    if (region !== site.region || account !== site.accountId)
      throw invalidParameter(`${field} is an ARN of another region or account`);
    checkKvKey(name as string, field);
    return { name: name as string, arnSuffix: suffix as string };
  }
  if (id.startsWith('arn:')) throw invalidParameter(`${field} is not a Secrets Manager secret ARN`);
  checkKvKey(id, field);
  return { name: id };
}

/**
 * The six characters that end a secret's ARN: derived from its name and the creation time of
 * its KV key, so the ARN is stable for the secret's life (in both APIs) and a secret deleted
 * and created again under the same name gets a new one, as in AWS.
 */
export function arnSuffixOf(name: string, meta: KeyMetadata): string {
  const digest = createHash('sha256').update(`${name}\n${meta.created_time}`).digest();
  return [...digest.subarray(0, 6)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
}

/** The secret's ARN. */
export function arnOf(site: SecretsManagerSite, name: string, meta: KeyMetadata): string {
  return `arn:aws:secretsmanager:${site.region}:${site.accountId}:secret:${name}-${arnSuffixOf(name, meta)}`;
}

/** The KV paths a secret is judged on by the ACL: its data and its metadata. */
export const dataPathOf = (site: SecretsManagerSite, name: string) => `${site.mount}/data/${name}`;
export const metadataPathOf = (site: SecretsManagerSite, name: string) =>
  `${site.mount}/metadata/${name}`;

/** The rotation policy path a secret's RotateSecret and CancelRotateSecret are judged on. */
export const rotationPolicyPathOf = (site: SecretsManagerSite, name: string) =>
  `sys/rotation/${site.mount}/${name}`;
/** The path asking for a rotation of the secret is judged on (as `sys/rotate-secret` is). */
export const rotateSecretPathOf = (site: SecretsManagerSite, name: string) =>
  `sys/rotate-secret/${site.mount}/${name}`;
