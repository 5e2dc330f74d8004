import { type GcpAuthClient, openGcpKms } from '@custos/core/kms';
import { createCloudSeal } from './cloud-seal.js';
import type { RootKeyWrapper } from './root-key-wrapper.js';
import {
  fieldOrEnv,
  invalidSeal,
  optionalBooleans,
  optionalStrings,
  refuseUnknownFields,
} from './stanza-fields.js';

/**
 * The `seal` stanza of type `gcpckms`, with Vault's names and environment fallbacks. Without
 * `credentials` the client uses Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
 * the metadata server of GCE/GKE/Cloud Run).
 */
export interface GcpCkmsSealConfig {
  readonly type: 'gcpckms';
  /** Path of a service account key file; default `GOOGLE_CREDENTIALS`, `GOOGLE_APPLICATION_CREDENTIALS` (as paths). */
  readonly credentials?: string;
  /** Default `GOOGLE_PROJECT`. */
  readonly project?: string;
  /** The key ring's location; default `GOOGLE_REGION`, else `global`. */
  readonly region?: string;
  /** Default `VAULT_GCPCKMS_SEAL_KEY_RING`. */
  readonly key_ring?: string;
  /** A symmetric (ENCRYPT_DECRYPT) CryptoKey; default `VAULT_GCPCKMS_SEAL_CRYPTO_KEY`. */
  readonly crypto_key?: string;
  /** Vault's name: migrate from this seal back to Shamir unseal keys (docs/operations.md). */
  readonly disabled?: boolean;
}

/** Client settings a stanza cannot say (another endpoint, an auth client): embedding and tests. */
export interface GcpCkmsSealClient {
  readonly authClient?: GcpAuthClient;
  readonly apiEndpoint?: string;
  readonly port?: number;
}

export const GCPCKMS_FIELDS = [
  'type',
  'credentials',
  'project',
  'region',
  'key_ring',
  'crypto_key',
  'disabled',
] as const;

const NAMES: Record<string, RegExp> = {
  project: /^[A-Za-z0-9][A-Za-z0-9.:-]{0,62}$/,
  region: /^[A-Za-z0-9-]{1,63}$/,
  key_ring: /^[A-Za-z0-9_-]{1,63}$/,
  crypto_key: /^[A-Za-z0-9_-]{1,63}$/,
};

/** Validates a `gcpckms` stanza (the environment is read when the seal is made). */
export function parseGcpCkmsStanza(s: Record<string, unknown>): GcpCkmsSealConfig {
  refuseUnknownFields(s, GCPCKMS_FIELDS);
  optionalStrings(s, ['credentials', 'project', 'region', 'key_ring', 'crypto_key']);
  optionalBooleans(s, ['disabled']);
  checkNames(s);
  if (typeof s.credentials === 'string' && s.credentials.trimStart().startsWith('{'))
    invalidSeal('seal.credentials is the path of a key file, not its JSON');
  return s as unknown as GcpCkmsSealConfig;
}

function checkNames(values: Record<string, unknown>): void {
  for (const [field, pattern] of Object.entries(NAMES)) {
    const value = values[field];
    if (typeof value === 'string' && (!pattern.test(value) || value.includes('..')))
      invalidSeal(`seal.${field} must be a Cloud KMS resource id`);
  }
}

/**
 * The `gcpckms` seal: the root key is encrypted by a Cloud KMS CryptoKey (`encrypt` with the
 * additional authenticated data `{ purpose: 'custos-seal', cluster }`, through
 * `@google-cloud/kms`) and decrypted at start; Cloud KMS names the version in its ciphertext,
 * so a rotated key keeps decrypting. Needs `cloudkms.cryptoKeyVersions.useToEncrypt` and
 * `useToDecrypt` (the role `roles/cloudkms.cryptoKeyEncrypterDecrypter`).
 *
 * @example
 * ```ts
 * const seal = createGcpCkmsSeal({ type: 'gcpckms', project: 'acme', region: 'global', key_ring: 'custos', crypto_key: 'seal' });
 * ```
 */
export function createGcpCkmsSeal(
  config: GcpCkmsSealConfig,
  env: NodeJS.ProcessEnv = process.env,
  client: GcpCkmsSealClient = {},
  timeoutMs?: number,
): RootKeyWrapper {
  const values = {
    project: fieldOrEnv(config.project, env, ['GOOGLE_PROJECT']),
    region: fieldOrEnv(config.region, env, ['GOOGLE_REGION']) ?? 'global',
    key_ring: fieldOrEnv(config.key_ring, env, ['VAULT_GCPCKMS_SEAL_KEY_RING']),
    crypto_key: fieldOrEnv(config.crypto_key, env, ['VAULT_GCPCKMS_SEAL_CRYPTO_KEY']),
  };
  checkNames(values);
  const env_ = {
    project: 'GOOGLE_PROJECT',
    key_ring: 'VAULT_GCPCKMS_SEAL_KEY_RING',
    crypto_key: 'VAULT_GCPCKMS_SEAL_CRYPTO_KEY',
  } as const;
  for (const field of ['project', 'key_ring', 'crypto_key'] as const)
    if (values[field] === undefined)
      invalidSeal(`seal.${field} is missing (set it in the seal stanza, or ${env_[field]})`);
  const credentials = fieldOrEnv(config.credentials, env, [
    'GOOGLE_CREDENTIALS',
    'GOOGLE_APPLICATION_CREDENTIALS',
  ]);
  if (credentials?.trimStart().startsWith('{'))
    invalidSeal(
      'the Google credentials must be the path of a key file (seal.credentials or GOOGLE_APPLICATION_CREDENTIALS), not its JSON',
    );
  const keyName = `projects/${values.project}/locations/${values.region}/keyRings/${values.key_ring}/cryptoKeys/${values.crypto_key}`;
  return createCloudSeal({
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    type: 'gcpckms',
    description: `gcpckms seal key ${keyName}`,
    open: () =>
      openGcpKms({
        keyName,
        ...(client.authClient === undefined ? {} : { authClient: client.authClient }),
        ...(credentials === undefined ? {} : { keyFilename: credentials }),
        ...(client.apiEndpoint === undefined ? {} : { apiEndpoint: client.apiEndpoint }),
        ...(client.port === undefined ? {} : { port: client.port }),
      }),
    accepts: (stored) => stored === keyName,
    secrets: [],
  });
}
