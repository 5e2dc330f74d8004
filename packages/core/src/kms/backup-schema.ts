import type { z } from 'zod';
import { lazily, zod } from '../lib/lazy-zod.js';
import { KEY_STATES } from './key-lifecycle.js';
import { hasKeyPair, parsePrivateKey, publicFormOf, symmetricKeyBytes } from './key-material.js';
import { KEY_PURPOSES, keyTypeSupport, purposesOf, TRANSIT_KEY_TYPES } from './key-types.js';
import { MIN_AUTO_ROTATE_SECONDS, validateKeyName } from './transit-key.js';

/** The format tag of a transit backup. */
export const BACKUP_FORMAT = 'custos.transit-backup.v1';

/** A type error's message: `is missing` for an absent field, else `expected`. */
const shouldBe = (expected: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : expected),
});

/** The schemas of a backup's parts, built at the first decode (lazy-zod.ts). */
const parts = lazily(() => {
  const z = zod();
  const bool = z.boolean(shouldBe('must be true or false'));

  const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
    z
      .int(shouldBe('must be an integer'))
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`);

  const time = z
    .string(shouldBe('must be an ISO 8601 time'))
    .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 time');

  const keyName = z.string(shouldBe('must be a key name')).superRefine((value, ctx) => {
    try {
      validateKeyName(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

  /** Canonical base64 of exactly `bytes` bytes; the message never shows the value. */
  const material = (bytes?: number) =>
    z
      .string(shouldBe('must be base64'))
      .refine(
        (value) => value.length > 0 && Buffer.from(value, 'base64').toString('base64') === value,
        'must be canonical base64',
      )
      .refine(
        (value) => bytes === undefined || Buffer.from(value, 'base64').length === bytes,
        `must hold ${bytes} bytes`,
      );

  const policy = z
    .strictObject({
      name: keyName,
      type: z.enum(TRANSIT_KEY_TYPES, shouldBe(`must be one of ${TRANSIT_KEY_TYPES.join(', ')}`)),
      purpose: z.enum(KEY_PURPOSES, shouldBe(`must be one of ${KEY_PURPOSES.join(', ')}`)),
      derived: bool,
      convergent_encryption: bool,
      exportable: bool,
      allow_plaintext_backup: bool,
      deletion_allowed: bool,
      auto_rotate_period: int(0).refine(
        (s) => s === 0 || s >= MIN_AUTO_ROTATE_SECONDS,
        `must be 0 (disabled) or at least ${MIN_AUTO_ROTATE_SECONDS} seconds`,
      ),
      min_decryption_version: int(1),
      min_encryption_version: int(0),
      min_available_version: int(0),
      latest_version: int(1),
      // `expired` is never stored: the clock decides it from expires_at.
      state: z.enum(
        KEY_STATES.filter((s) => s !== 'expired'),
        shouldBe('must be one of active, inactive, rotating, revoked, pending_deletion'),
      ),
      revoked_time: time.nullable().optional(),
      expires_at: time.nullable(),
      decrypt_after_revocation: bool,
      rotate_after_encryptions: int(1, 2 ** 32),
      created_time: time,
      updated_time: time,
      imported_key: bool.optional(),
      allow_rotation: bool.optional(),
      custom_metadata: z.record(z.string(), z.string()).optional(),
    })
    .superRefine((p, ctx) => {
      const issue = (field: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: [field], message });
      if (!purposesOf[p.type].includes(p.purpose))
        issue('purpose', `type ${p.type} serves ${purposesOf[p.type].join(', ')} only`);
      if (p.derived && !keyTypeSupport[p.type].derivation)
        issue('derived', `key derivation is not supported for ${p.type} keys`);
      if (p.convergent_encryption && !p.derived)
        issue('convergent_encryption', 'requires derived to be true');
      if (p.min_decryption_version > p.latest_version)
        issue('min_decryption_version', 'must be at most latest_version');
      if (
        p.min_encryption_version > 0 &&
        (p.min_encryption_version < p.min_decryption_version ||
          p.min_encryption_version > p.latest_version)
      )
        issue(
          'min_encryption_version',
          'must be 0 or from min_decryption_version to latest_version',
        );
      if (p.min_available_version > p.min_decryption_version)
        issue('min_available_version', 'must be at most min_decryption_version');
      if (
        p.revoked_time !== undefined &&
        p.revoked_time !== null &&
        p.state !== 'revoked' &&
        p.state !== 'pending_deletion'
      )
        issue('revoked_time', `a revoked key cannot be ${p.state} (revocation is final)`);
      if (p.allow_rotation !== undefined && p.imported_key !== true)
        issue('allow_rotation', 'belongs to imported keys only');
    });

  const version = z.strictObject({
    version: int(1),
    created_time: time,
    key: material().optional(),
    hmac_key: material(32),
    private_key: material().optional(),
    public_key: z.string(shouldBe('must be a string')).optional(),
    encryptions: int(0),
  });
  return { policy, version };
});

type Policy = z.infer<ReturnType<typeof parts>['policy']>;
type Version = z.infer<ReturnType<typeof parts>['version']>;

/** Checks that the key pair parses as the key type's and matches its public key. */
function keyPairProblem(type: Policy['type'], v: Version): [string, string] | undefined {
  if (v.private_key === undefined) return ['private_key', `is missing (type ${type} needs it)`];
  const parsed = parsePrivateKey(type, Buffer.from(v.private_key, 'base64'));
  if (typeof parsed === 'string') return ['private_key', parsed];
  if (v.public_key !== publicFormOf(type, parsed))
    return ['public_key', 'does not belong to private_key'];
  return undefined;
}

/** The material fields a version of `type` must have and must not have. */
function materialProblem(type: Policy['type'], v: Version): [string, string] | undefined {
  const bytes = symmetricKeyBytes(type);
  if (bytes !== undefined && v.key === undefined)
    return ['key', `is missing (type ${type} needs it)`];
  if (bytes === undefined && v.key !== undefined)
    return ['key', `does not belong in a key of type ${type}`];
  if (v.key !== undefined && Buffer.from(v.key, 'base64').length !== bytes)
    return ['key', `must hold ${bytes} bytes`];
  if (hasKeyPair(type)) return keyPairProblem(type, v);
  if (v.private_key !== undefined)
    return ['private_key', `does not belong in a key of type ${type}`];
  if (v.public_key !== undefined) return ['public_key', `does not belong in a key of type ${type}`];
  return undefined;
}

/**
 * A transit backup: every policy field checked alone and against the others (type and purpose,
 * the version floors, revocation), and versions `max(1, min_available_version)`..`latest_version`
 * each exactly once with the key material the type needs, well formed. One schema for the
 * server's `transit/restore` and `LocalKms.restore` (and the KMS file), built at the first call.
 *
 * @example
 * ```ts
 * const result = backupSchema().safeParse(JSON.parse(text));
 * ```
 */
export const backupSchema = lazily(() => {
  const z = zod();
  const { policy: policySchema, version: versionSchema } = parts();
  return z
    .strictObject({
      format: z.literal(BACKUP_FORMAT, 'not a custos transit backup (unknown format)'),
      policy: policySchema,
      versions: z.array(versionSchema, shouldBe('must be a list')).min(1, 'must not be empty'),
    })
    .superRefine(({ policy, versions }, ctx) => {
      const first = Math.max(1, policy.min_available_version);
      const expected = policy.latest_version - first + 1;
      const numbers = new Set(versions.map((v) => v.version));
      const complete =
        numbers.size === versions.length &&
        versions.length === expected &&
        versions.every((v) => v.version >= first && v.version <= policy.latest_version);
      if (!complete) {
        ctx.addIssue({
          code: 'custom',
          path: ['versions'],
          // The bounds are the backup's own numbers: named, not quoted (error texts reach the
          // audit log as they are, and the backup itself is HMAC'd there).
          message:
            'must hold each version from max(1, min_available_version) to latest_version once',
        });
        return;
      }
      versions.forEach((v, i) => {
        const problem = materialProblem(policy.type, v);
        if (problem !== undefined)
          ctx.addIssue({ code: 'custom', path: ['versions', i, problem[0]], message: problem[1] });
      });
    });
});

/** Formats a schema issue as `policy.state: must be …` / `versions[1].key: …`. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
  // An unknown field is not named: a backup reaches the server as one base64 string, HMAC'd
  // in the audit log, and error texts reach the log as they are.
  const message =
    issue.code === 'unrecognized_keys'
      ? 'holds a field a custos backup does not have'
      : issue.message;
  return path === '' ? message : `${path}: ${message}`;
}
