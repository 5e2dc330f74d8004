import { ServerError } from '../errors.js';
import { type AwsKmsSealConfig, createAwsKmsSeal, parseAwsKmsStanza } from './awskms-seal.js';
import {
  type AzureKeyVaultSealClient,
  type AzureKeyVaultSealConfig,
  createAzureKeyVaultSeal,
  parseAzureKeyVaultStanza,
} from './azurekeyvault-seal.js';
import {
  createGcpCkmsSeal,
  type GcpCkmsSealClient,
  type GcpCkmsSealConfig,
  parseGcpCkmsStanza,
} from './gcpckms-seal.js';
import { createPkcs11Seal, type Pkcs11SealConfig, pkcs11SealMechanism } from './pkcs11-seal.js';
import type { RootKeyWrapper } from './root-key-wrapper.js';
import { createTransitSeal, type TransitSealConfig } from './transit-seal.js';

/**
 * The `seal` stanza of the server configuration, with Vault's names: `transit`, `pkcs11`,
 * `awskms`, `azurekeyvault` or `gcpckms`.
 */
export type SealStanza =
  | TransitSealConfig
  | Pkcs11SealConfig
  | AwsKmsSealConfig
  | AzureKeyVaultSealConfig
  | GcpCkmsSealConfig;

/**
 * Client settings of the cloud seals that a stanza cannot express (a private CA's agent, an
 * endpoint and credential for a local stand-in): for embedding `startServer`, and tests.
 */
export interface SealClients {
  /** More `KMSClient` configuration for `awskms` (`maxAttempts`, a request handler…). */
  readonly aws?: Readonly<Record<string, unknown>>;
  readonly azure?: AzureKeyVaultSealClient;
  readonly gcp?: GcpCkmsSealClient;
  /** Longest wait for one wrap or unwrap of a cloud seal (default 30 000 ms), then retried. */
  readonly timeoutMs?: number;
}

const SEAL_TYPES = ['transit', 'pkcs11', 'awskms', 'azurekeyvault', 'gcpckms'];

const TRANSIT_FIELDS = [
  'type',
  'address',
  'token',
  'mount_path',
  'key_name',
  'timeout_ms',
  'allow_insecure_http',
  'disabled',
];

const PKCS11_FIELDS = [
  'type',
  'lib',
  'slot',
  'token_label',
  'pin',
  'pin_file',
  'key_label',
  'mechanism',
  'generate_key',
  'disabled',
];

const fail = (message: string): never => {
  throw new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
};

/**
 * Validates a parsed `seal` stanza (never echoing the token).
 *
 * @example
 * ```ts
 * parseSealStanza({ type: 'transit', address: 'https://kms:8200', key_name: 'custos-seal' });
 * ```
 */
export function parseSealStanza(raw: unknown): SealStanza {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('"seal" must be an object such as {"type": "transit", …}');
  const s = raw as Record<string, unknown>;
  if (typeof s.type === 'string' && !SEAL_TYPES.includes(s.type)) {
    const lower = s.type.toLowerCase();
    if (SEAL_TYPES.includes(lower))
      fail(`seal.type is written in lowercase, as Vault names it: "${lower}"`);
  }
  if (s.type === 'pkcs11') return parsePkcs11Stanza(s);
  if (s.type === 'awskms') return parseAwsKmsStanza(s);
  if (s.type === 'azurekeyvault') return parseAzureKeyVaultStanza(s);
  if (s.type === 'gcpckms') return parseGcpCkmsStanza(s);
  if (s.type !== 'transit') fail(`seal.type must be one of ${SEAL_TYPES.join(', ')}`);
  for (const key of Object.keys(s))
    if (!TRANSIT_FIELDS.includes(key))
      fail(`unknown field "seal.${key}" (known: ${TRANSIT_FIELDS.join(', ')})`);
  if (typeof s.address !== 'string' || !/^https?:\/\/[^\s]+$/.test(s.address))
    fail('seal.address must be an http(s) URL');
  if (s.token !== undefined && (typeof s.token !== 'string' || s.token === ''))
    fail('seal.token must be a non-empty string (or leave it out and set CUSTOS_SEAL_TOKEN)');
  if (
    s.mount_path !== undefined &&
    (typeof s.mount_path !== 'string' ||
      !/^\/?[\w.-]+(\/[\w.-]+)*\/?$/.test(s.mount_path) ||
      s.mount_path.split('/').some((part) => part === '.' || part === '..'))
  )
    fail('seal.mount_path must be a mount path such as "transit/"');
  if (typeof s.key_name !== 'string' || !/^[\w.-]+$/.test(s.key_name))
    fail('seal.key_name must be a transit key name');
  if (
    s.timeout_ms !== undefined &&
    (!Number.isInteger(s.timeout_ms) || (s.timeout_ms as number) <= 0)
  )
    fail('seal.timeout_ms must be a positive integer');
  if (s.disabled !== undefined && typeof s.disabled !== 'boolean')
    fail('seal.disabled must be true or false');
  if (s.allow_insecure_http !== undefined && typeof s.allow_insecure_http !== 'boolean')
    fail('seal.allow_insecure_http must be true or false');
  return s as unknown as SealStanza;
}

/** A `pkcs11` stanza: absent fields come from HSM_* in the environment when the seal is made. */
function parsePkcs11Stanza(s: Record<string, unknown>): Pkcs11SealConfig {
  for (const key of Object.keys(s))
    if (!PKCS11_FIELDS.includes(key))
      fail(`unknown field "seal.${key}" (known: ${PKCS11_FIELDS.join(', ')})`);
  for (const field of ['lib', 'token_label', 'pin', 'pin_file', 'key_label'])
    if (s[field] !== undefined && (typeof s[field] !== 'string' || s[field] === ''))
      fail(`seal.${field} must be a non-empty string`);
  if (
    s.slot !== undefined &&
    !(typeof s.slot === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(s.slot))
  )
    fail('seal.slot must be a slot number written as a string, such as "0"');
  if (s.slot !== undefined && s.token_label !== undefined)
    fail('seal.slot and seal.token_label name the token twice: keep one');
  if (s.pin !== undefined && s.pin_file !== undefined)
    fail('seal.pin and seal.pin_file both give the PIN: keep one (better pin_file or HSM_PIN)');
  if (
    s.mechanism !== undefined &&
    (typeof s.mechanism !== 'string' || pkcs11SealMechanism(s.mechanism) === undefined)
  )
    fail('seal.mechanism must be CKM_AES_GCM or CKM_AES_KEY_WRAP_PAD');
  for (const field of ['generate_key', 'disabled'])
    if (s[field] !== undefined && typeof s[field] !== 'boolean')
      fail(`seal.${field} must be true or false`);
  return s as unknown as Pkcs11SealConfig;
}

/**
 * The seal a stanza names (a new seal type is one more case here).
 *
 * @example
 * ```ts
 * const wrapper = createRootKeyWrapper(config.seal, process.env);
 * ```
 */
export function createRootKeyWrapper(
  stanza: SealStanza,
  env: NodeJS.ProcessEnv = process.env,
  clients: SealClients = {},
): RootKeyWrapper {
  const parsed = parseSealStanza(stanza);
  switch (parsed.type) {
    case 'pkcs11':
      return createPkcs11Seal(parsed, env);
    case 'awskms':
      return createAwsKmsSeal(parsed, env, clients.aws, clients.timeoutMs);
    case 'azurekeyvault':
      return createAzureKeyVaultSeal(parsed, env, clients.azure, clients.timeoutMs);
    case 'gcpckms':
      return createGcpCkmsSeal(parsed, env, clients.gcp, clients.timeoutMs);
    default:
      return createTransitSeal(parsed, env);
  }
}
