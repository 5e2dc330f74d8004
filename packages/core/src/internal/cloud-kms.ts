/**
 * `@custos/core/internal/cloud-kms`: the Azure credential the cloud KMS provider builds from
 * settings (a service principal, else `DefaultAzureCredential`), reused by the server's
 * `azurekeyvault` seal so both read Vault's identity fields the same way.
 *
 * Internal and unversioned: not part of the library's promise. Only `@custos/server` imports it.
 * Applications use `openAzureKeyVaultKms` from `@custos/core/kms`.
 *
 * @example
 * ```ts
 * import { azureCredentialFor } from '@custos/core/internal/cloud-kms';
 * const credential = await azureCredentialFor({ tenantId, clientId, clientSecret });
 * ```
 * @module
 */
export { type AzureIdentitySettings, azureCredentialFor } from '../kms/cloud/azure-credential.js';
