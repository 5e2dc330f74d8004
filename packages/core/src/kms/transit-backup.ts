import { CustosError } from '../errors/index.js';
import { isKeyState } from './key-lifecycle.js';
import { isKeyPurpose, isTransitKeyType } from './key-types.js';
import { type TransitKeyPolicy, type TransitKeyVersion, validateKeyName } from './transit-key.js';

/** A key with all its versions: what `backup` exports and `restore` imports. */
export interface TransitKeyBackup {
  readonly policy: TransitKeyPolicy;
  readonly versions: readonly TransitKeyVersion[];
}

const FORMAT = 'custos.transit-backup.v1';

const fail = (message: string): never => {
  throw new CustosError('ERR_INVALID_ARGUMENT', `backup: ${message}`);
};

/**
 * Encodes a key and its versions as one base64 string (key material included). The local KMS and
 * the server's `transit/backup` speak the same format, so a key moves between them unchanged and
 * its ciphertexts keep decrypting.
 *
 * @example
 * ```ts
 * const blob = encodeBackup({ policy, versions });
 * ```
 */
export function encodeBackup(backup: TransitKeyBackup): string {
  return Buffer.from(JSON.stringify({ format: FORMAT, ...backup })).toString('base64');
}

/** Decodes and checks a backup; refuses anything malformed with a message naming the field. */
export function decodeBackup(blob: unknown): TransitKeyBackup {
  if (typeof blob !== 'string' || blob.length === 0) fail('missing backup');
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(Buffer.from(blob as string, 'base64').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return fail('not a custos transit backup (bad encoding)');
  }
  if (parsed.format !== FORMAT) fail('not a custos transit backup (unknown format)');
  const policy = parsed.policy as TransitKeyPolicy;
  if (typeof policy !== 'object' || policy === null) fail('missing policy');
  validateKeyName(policy.name);
  if (!isTransitKeyType(policy.type)) fail('policy.type is not a key type');
  if (!isKeyPurpose(policy.purpose)) fail('policy.purpose is not a purpose');
  if (!isKeyState(policy.state)) fail('policy.state is not a state');
  for (const field of [
    'latest_version',
    'min_decryption_version',
    'min_encryption_version',
    'min_available_version',
  ] as const) {
    if (!Number.isInteger(policy[field]) || policy[field] < 0)
      fail(`policy.${field} must be a non-negative integer`);
  }
  const versions = parsed.versions as TransitKeyVersion[];
  if (!Array.isArray(versions) || versions.length === 0) fail('versions must be a non-empty list');
  for (const v of versions) {
    if (!Number.isInteger(v.version) || v.version < 1 || v.version > policy.latest_version)
      fail('a version number is out of range');
    if (typeof v.hmac_key !== 'string') fail(`version ${v.version} has no hmac_key`);
    if (
      (policy.type === 'aes256-gcm96' || policy.type === 'chacha20-poly1305') &&
      typeof v.key !== 'string'
    ) {
      fail(`version ${v.version} has no key`);
    }
    if (
      (policy.type === 'ed25519' || policy.type === 'ecdsa-p256') &&
      typeof v.private_key !== 'string'
    ) {
      fail(`version ${v.version} has no private_key`);
    }
  }
  if (!versions.some((v) => v.version === policy.latest_version))
    fail('the latest version is missing');
  return { policy, versions };
}
