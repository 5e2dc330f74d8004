import type { Agent } from 'node:https';
import { azureCredentialFor } from '@custos/core/internal/cloud-kms';
import { type AzureTokenCredential, openAzureKeyVaultKms } from '@custos/core/kms';
import { Secret } from '@custos/core/redaction';
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
 * The `seal` stanza of type `azurekeyvault`, with Vault's names and environment fallbacks.
 * Without `client_secret` the credential is `DefaultAzureCredential` (workload or managed
 * identity, `client_id` naming a user-assigned one).
 */
export interface AzureKeyVaultSealConfig {
  readonly type: 'azurekeyvault';
  /** Default `AZURE_TENANT_ID`. */
  readonly tenant_id?: string;
  /** Default `AZURE_CLIENT_ID`. */
  readonly client_id?: string;
  /** Default `AZURE_CLIENT_SECRET` (better there than in the file). Never logged. */
  readonly client_secret?: string;
  /** `AZUREPUBLICCLOUD` (default), `AZURECHINACLOUD` or `AZUREUSGOVERNMENTCLOUD`; default `AZURE_ENVIRONMENT`. */
  readonly environment?: string;
  /** Default `VAULT_AZUREKEYVAULT_VAULT_NAME`. */
  readonly vault_name?: string;
  /** An RSA key, or an AES key on a Managed HSM; default `VAULT_AZUREKEYVAULT_KEY_NAME`. */
  readonly key_name?: string;
  /** The vault's DNS suffix (`managedhsm.azure.net` for a Managed HSM); default `AZURE_AD_RESOURCE`, else the environment's. */
  readonly resource?: string;
  /** Vault's name: migrate from this seal back to Shamir unseal keys (docs/operations.md). */
  readonly disabled?: boolean;
}

/** Client settings a stanza cannot say (a private CA, another URL): for embedding and tests. */
export interface AzureKeyVaultSealClient {
  readonly vaultUrl?: string;
  readonly credential?: AzureTokenCredential;
  readonly agent?: Agent;
  readonly disableChallengeResourceVerification?: boolean;
  /** Options of the credential built from the stanza (`authorityHost`, an `agent`, retries). */
  readonly credentialOptions?: Readonly<Record<string, unknown>>;
}

export const AZUREKEYVAULT_FIELDS = [
  'type',
  'tenant_id',
  'client_id',
  'client_secret',
  'environment',
  'vault_name',
  'key_name',
  'resource',
  'disabled',
] as const;

/** Vault's environment names: the vault DNS suffix and Entra ID's host of each cloud. */
const ENVIRONMENTS: Record<string, { suffix: string; authorityHost: string }> = {
  AZUREPUBLICCLOUD: {
    suffix: 'vault.azure.net',
    authorityHost: 'https://login.microsoftonline.com',
  },
  AZURECHINACLOUD: { suffix: 'vault.azure.cn', authorityHost: 'https://login.chinacloudapi.cn' },
  AZUREUSGOVERNMENTCLOUD: {
    suffix: 'vault.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
  },
};

const VAULT_NAME = /^[A-Za-z0-9-]{3,24}$/;
const KEY_NAME = /^[A-Za-z0-9-]{1,127}$/;
const RESOURCE = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/** Validates an `azurekeyvault` stanza (the environment is read when the seal is made). */
export function parseAzureKeyVaultStanza(s: Record<string, unknown>): AzureKeyVaultSealConfig {
  refuseUnknownFields(s, AZUREKEYVAULT_FIELDS);
  optionalStrings(s, [
    'tenant_id',
    'client_id',
    'client_secret',
    'environment',
    'vault_name',
    'key_name',
    'resource',
  ]);
  optionalBooleans(s, ['disabled']);
  checkNames(s as Partial<AzureKeyVaultSealConfig>);
  return s as unknown as AzureKeyVaultSealConfig;
}

function checkNames(c: Partial<AzureKeyVaultSealConfig>): void {
  if (c.environment !== undefined && ENVIRONMENTS[c.environment.toUpperCase()] === undefined)
    invalidSeal(`seal.environment must be one of ${Object.keys(ENVIRONMENTS).join(', ')}`);
  if (c.vault_name !== undefined && !VAULT_NAME.test(c.vault_name))
    invalidSeal('seal.vault_name must be a Key Vault name (3 to 24 letters, digits and dashes)');
  if (c.key_name !== undefined && !KEY_NAME.test(c.key_name))
    invalidSeal('seal.key_name must be a Key Vault key name (letters, digits and dashes)');
  if (c.resource !== undefined && !RESOURCE.test(c.resource))
    invalidSeal('seal.resource must be a DNS suffix such as vault.azure.net');
}

/**
 * The `azurekeyvault` seal: the root key is wrapped under a Key Vault (or Managed HSM) key with
 * `wrapKey` (through `@azure/keyvault-keys`), bound to `{ purpose: 'custos-seal', cluster }` by
 * the provider's sealing layer, and unwrapped at start with the key version that wrapped it.
 * Needs the key permissions `get`, `wrapKey` and `unwrapKey`.
 *
 * @example
 * ```ts
 * const seal = createAzureKeyVaultSeal({ type: 'azurekeyvault', vault_name: 'acme-seal', key_name: 'custos-seal' });
 * ```
 */
export function createAzureKeyVaultSeal(
  config: AzureKeyVaultSealConfig,
  env: NodeJS.ProcessEnv = process.env,
  client: AzureKeyVaultSealClient = {},
  timeoutMs?: number,
): RootKeyWrapper {
  const environment = fieldOrEnv(config.environment, env, ['AZURE_ENVIRONMENT']);
  const vaultName = fieldOrEnv(config.vault_name, env, ['VAULT_AZUREKEYVAULT_VAULT_NAME']);
  const keyName = fieldOrEnv(config.key_name, env, ['VAULT_AZUREKEYVAULT_KEY_NAME']);
  const resource = fieldOrEnv(config.resource, env, ['AZURE_AD_RESOURCE']);
  checkNames({
    ...(environment === undefined ? {} : { environment }),
    ...(vaultName === undefined ? {} : { vault_name: vaultName }),
    ...(keyName === undefined ? {} : { key_name: keyName }),
    ...(resource === undefined ? {} : { resource }),
  });
  if (keyName === undefined)
    return invalidSeal(
      'seal.key_name is missing (set it in the seal stanza, or VAULT_AZUREKEYVAULT_KEY_NAME)',
    );
  if (vaultName === undefined && client.vaultUrl === undefined)
    return invalidSeal(
      'seal.vault_name is missing (set it in the seal stanza, or VAULT_AZUREKEYVAULT_VAULT_NAME)',
    );
  const cloud = ENVIRONMENTS[(environment ?? 'AZUREPUBLICCLOUD').toUpperCase()] as {
    suffix: string;
    authorityHost: string;
  };
  const vaultUrl = client.vaultUrl ?? `https://${vaultName}.${resource ?? cloud.suffix}`;
  const tenantId = fieldOrEnv(config.tenant_id, env, ['AZURE_TENANT_ID']);
  const clientId = fieldOrEnv(config.client_id, env, ['AZURE_CLIENT_ID']);
  const clientSecret = fieldOrEnv(config.client_secret, env, ['AZURE_CLIENT_SECRET']);
  if (clientSecret !== undefined && (tenantId === undefined || clientId === undefined))
    invalidSeal(
      'seal.client_secret needs seal.tenant_id and seal.client_id (or AZURE_TENANT_ID and AZURE_CLIENT_ID)',
    );
  const keyId = `${new URL(vaultUrl).origin}/keys/${keyName}`;
  return createCloudSeal({
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    type: 'azurekeyvault',
    description: `azurekeyvault seal key ${keyId}`,
    open: async () =>
      openAzureKeyVaultKms({
        vaultUrl,
        keyName,
        // Unwraps use the version recorded; wraps the current one, read afresh each time.
        keyRefreshSeconds: 0,
        credential:
          client.credential ??
          (await azureCredentialFor({
            ...(tenantId === undefined ? {} : { tenantId }),
            ...(clientId === undefined ? {} : { clientId }),
            ...(clientSecret === undefined ? {} : { clientSecret: new Secret(clientSecret) }),
            authorityHost: cloud.authorityHost,
            ...(client.credentialOptions === undefined
              ? {}
              : { credentialOptions: client.credentialOptions }),
          })),
        ...(client.agent === undefined ? {} : { agent: client.agent }),
        ...(client.disableChallengeResourceVerification === true
          ? { disableChallengeResourceVerification: true }
          : {}),
      }),
    accepts: (stored) => stored === keyId,
    secrets: clientSecret === undefined ? [] : [clientSecret],
  });
}
