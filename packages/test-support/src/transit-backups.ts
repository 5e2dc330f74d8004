/**
 * Malformed transit backups for the restore tests of the server and of LocalKms: each case
 * changes one thing in a valid backup and names the field the refusal must name.
 */
import { generateKeyPairSync } from 'node:crypto';

/** A backup as JSON (what the base64 blob holds). */
// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary backup JSON
type BackupJson = any;

/** One malformed backup: what is wrong, the blob, and how the error starts. */
export interface MalformedBackup {
  readonly case: string;
  readonly blob: unknown;
  /** The refusal's message starts with this: `backup: ` and the field it names. */
  readonly error: string;
}

const decode = (blob: string): BackupJson =>
  JSON.parse(Buffer.from(blob, 'base64').toString('utf8'));
const encode = (json: BackupJson) => Buffer.from(JSON.stringify(json)).toString('base64');

/**
 * Malformed variants of two valid backups: `symmetric` (an aes256-gcm96 key with versions 1 and
 * 2, neither trimmed) and `signing` (an ed25519 key with versions 1 and 2).
 *
 * @example
 * ```ts
 * for (const c of malformedBackups(kms.backup('aes'), kms.backup('ed'))) expect(...);
 * ```
 */
export function malformedBackups(symmetric: string, signing: string): MalformedBackup[] {
  const cases: MalformedBackup[] = [];
  const edit = (
    name: string,
    field: string,
    change: (json: BackupJson) => void,
    from = symmetric,
  ) => {
    const json = decode(from);
    change(json);
    cases.push({ case: name, blob: encode(json), error: `backup: ${field}:` });
  };
  const policy = (
    name: string,
    field: string,
    value: unknown,
    extra: Record<string, unknown> = {},
  ) =>
    edit(name, `policy.${field}`, (j) => {
      Object.assign(j.policy, { [field]: value, ...extra });
    });

  cases.push({ case: 'no backup', blob: undefined, error: 'backup: missing backup' });
  cases.push({ case: 'not a string', blob: { policy: {} }, error: 'backup: missing backup' });
  cases.push({
    case: 'not base64 JSON',
    blob: 'not-json!!',
    error: 'backup: not a custos transit backup (bad encoding)',
  });
  edit('another format', 'format', (j) => {
    j.format = 'vault.backup';
  });
  cases.push({
    case: 'a field beside policy and versions',
    blob: encode({ ...decode(symmetric), extra: true }),
    error: 'backup: holds a field a custos backup does not have',
  });

  policy('empty name', 'name', '');
  policy('name with a slash', 'name', 'evil/1');
  policy('name climbing out', 'name', '../../sys/policy/x');
  policy('name not a string', 'name', 42);
  policy('unknown type', 'type', 'rot13');
  policy('type and purpose mismatch', 'purpose', 'signing');
  edit('type and material mismatch', 'versions[0].key', (j) => {
    Object.assign(j.policy, { type: 'hmac', purpose: 'api_key' });
  });
  policy('unknown purpose', 'purpose', 'everything');
  policy('negative rotate_after_encryptions', 'rotate_after_encryptions', -5);
  policy('zero rotate_after_encryptions', 'rotate_after_encryptions', 0);
  policy('rotate_after_encryptions above 2^32', 'rotate_after_encryptions', 2 ** 33);
  policy('fractional rotate_after_encryptions', 'rotate_after_encryptions', 1.5);
  policy('rotate_after_encryptions as a string', 'rotate_after_encryptions', '10');
  policy('negative latest_version', 'latest_version', -1);
  policy('zero latest_version', 'latest_version', 0);
  policy('min_decryption_version above latest', 'min_decryption_version', 3);
  policy('negative min_decryption_version', 'min_decryption_version', -1);
  policy('min_encryption_version above latest', 'min_encryption_version', 3);
  policy('min_available_version above min_decryption_version', 'min_available_version', 2);
  policy('auto_rotate_period under an hour', 'auto_rotate_period', 60);
  policy('state expired (never stored)', 'state', 'expired');
  policy('unknown state', 'state', 'zombie');
  policy('revoked_time on an active key', 'revoked_time', '2026-01-01T00:00:00.000Z');
  policy('expires_at not a time', 'expires_at', 'tomorrow');
  policy('created_time not a time', 'created_time', 42);
  policy('derived not a boolean', 'derived', 'yes');
  policy('convergent without derivation', 'convergent_encryption', true);
  policy('exportable missing', 'exportable', undefined);
  edit('an unknown policy field', 'policy', (j) => {
    j.policy.is_admin = true;
  });

  edit('no versions', 'versions', (j) => {
    j.versions = [];
  });
  edit('versions not a list', 'versions', (j) => {
    j.versions = { 1: j.versions[0] };
  });
  edit('the latest version missing', 'versions', (j) => {
    j.versions = j.versions.slice(0, 1);
  });
  edit('a version twice', 'versions', (j) => {
    j.versions = [j.versions[0], j.versions[0]];
  });
  edit('a version beyond latest', 'versions', (j) => {
    j.versions[1].version = 3;
  });
  edit('negative version number', 'versions[0].version', (j) => {
    j.versions[0].version = -1;
  });
  edit('key not base64', 'versions[0].key', (j) => {
    j.versions[0].key = 'not base64 at all';
  });
  edit('key of 16 bytes', 'versions[0].key', (j) => {
    j.versions[0].key = Buffer.alloc(16, 1).toString('base64');
  });
  edit('key missing', 'versions[0].key', (j) => {
    delete j.versions[0].key;
  });
  edit('hmac_key missing', 'versions[0].hmac_key', (j) => {
    delete j.versions[0].hmac_key;
  });
  edit('hmac_key of 31 bytes', 'versions[1].hmac_key', (j) => {
    j.versions[1].hmac_key = Buffer.alloc(31, 2).toString('base64');
  });
  edit('negative encryptions', 'versions[0].encryptions', (j) => {
    j.versions[0].encryptions = -1;
  });
  edit('a private_key on a symmetric key', 'versions[0].private_key', (j) => {
    j.versions[0].private_key = j.versions[0].key;
  });
  edit('an unknown version field', 'versions[0]', (j) => {
    j.versions[0].note = 'x';
  });

  const ecdsa = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'der' })
    .toString('base64');
  edit(
    'signing key without private_key',
    'versions[0].private_key',
    (j) => {
      delete j.versions[0].private_key;
    },
    signing,
  );
  edit(
    'private_key not PKCS#8',
    'versions[0].private_key',
    (j) => {
      j.versions[0].private_key = Buffer.alloc(48, 3).toString('base64');
    },
    signing,
  );
  edit(
    'an ECDSA private_key on an ed25519 key',
    'versions[0].private_key',
    (j) => {
      j.versions[0].private_key = ecdsa;
    },
    signing,
  );
  edit(
    "another version's public_key",
    'versions[0].public_key',
    (j) => {
      j.versions[0].public_key = j.versions[1].public_key;
    },
    signing,
  );
  return cases;
}
