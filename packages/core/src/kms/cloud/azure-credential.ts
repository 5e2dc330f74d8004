import type { Secret } from '../../redaction/secret.js';
import { type AzureTokenCredential, importAzurePackage } from './azure-key-vault-kms.js';

/** The identity settings `KMS_PROVIDER=azure` reads (see `readKmsSettings`). */
export interface AzureIdentitySettings {
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly clientSecret?: Secret<string>;
}

interface IdentityModule {
  ClientSecretCredential: new (
    tenantId: string,
    clientId: string,
    secret: string,
  ) => AzureTokenCredential;
  DefaultAzureCredential: new (options: object) => AzureTokenCredential;
}

/**
 * The credential the settings describe: a service principal (`ClientSecretCredential`) when a
 * client secret is given, else `DefaultAzureCredential` (workload identity, managed identity —
 * user-assigned when `AZURE_CLIENT_ID` is set —, Azure CLI), from `@azure/identity`.
 */
export async function azureCredentialFor(
  settings: AzureIdentitySettings,
): Promise<AzureTokenCredential> {
  const identity = await importAzurePackage<IdentityModule>('@azure/identity');
  const { tenantId, clientId, clientSecret } = settings;
  if (clientSecret !== undefined && tenantId !== undefined && clientId !== undefined) {
    return new identity.ClientSecretCredential(tenantId, clientId, clientSecret.reveal());
  }
  return new identity.DefaultAzureCredential({
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(clientId === undefined
      ? {}
      : { managedIdentityClientId: clientId, workloadIdentityClientId: clientId }),
  });
}
