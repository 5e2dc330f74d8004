import type { z } from 'zod';
import { CustosError } from '../errors/index.js';
import { BACKUP_FORMAT, backupSchema, describeIssue } from './backup-schema.js';
import type { TransitKeyPolicy, TransitKeyVersion } from './transit-key.js';

/** A key with all its versions: what `backup` exports and `restore` imports. */
export interface TransitKeyBackup {
  readonly policy: TransitKeyPolicy;
  readonly versions: readonly TransitKeyVersion[];
}

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
  return Buffer.from(
    JSON.stringify({ format: BACKUP_FORMAT, policy: backup.policy, versions: backup.versions }),
  ).toString('base64');
}

/**
 * Decodes and checks a backup against the one backup schema (every field, alone and against the
 * others, and the key material); refuses anything malformed with `ERR_INVALID_ARGUMENT` and a
 * message naming the field (never its value). Nothing is restored from a refused backup.
 *
 * @example
 * ```ts
 * const { policy, versions } = decodeBackup(blob); // throws 'backup: policy.latest_version: …'
 * ```
 */
export function decodeBackup(blob: unknown): TransitKeyBackup {
  if (typeof blob !== 'string' || blob.length === 0) fail('missing backup');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(blob as string, 'base64').toString('utf8'));
  } catch {
    return fail('not a custos transit backup (bad encoding)');
  }
  const result = backupSchema().safeParse(parsed);
  // The first problem only: later ones often follow from it (a bad latest_version, say).
  if (!result.success) return fail(describeIssue(result.error.issues[0] as z.core.$ZodIssue));
  const { policy, versions } = result.data;
  return {
    // Absent optional fields stay absent (zod adds no undefined keys).
    policy: { ...policy, revoked_time: policy.revoked_time ?? null } as TransitKeyPolicy,
    // Absent optional fields stay absent (zod adds no undefined keys).
    versions: versions as TransitKeyVersion[],
  };
}
