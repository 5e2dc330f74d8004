import type { Secret } from '../../redaction/secret.js';
import { type AzureTokenCredential, importAzurePackage } from './azure-key-vault-kms.js';

/** The identity settings `KMS_PROVIDER=azure` reads (see `readKmsSettings`). */
export interface AzureIdentitySettings {
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly clientSecret?: Secret<string>;
  /** Microsoft Entra ID's host of another cloud (`https://login.microsoftonline.us`); default Azure's public one. */
  readonly authorityHost?: string;
  /** More options of the `@azure/identity` credential (an HTTPS agent for a private CA, retries). */
  readonly credentialOptions?: Readonly<Record<string, unknown>>;
}

interface IdentityModule {
  ClientSecretCredential: new (
    tenantId: string,
    clientId: string,
    secret: string,
    options?: object,
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
  const { tenantId, clientId, clientSecret, authorityHost } = settings;
  const authority = {
    ...(authorityHost === undefined ? {} : { authorityHost }),
    ...settings.credentialOptions,
  };
  if (clientSecret !== undefined && tenantId !== undefined && clientId !== undefined) {
    return new identity.ClientSecretCredential(
      tenantId,
      clientId,
      clientSecret.reveal(),
      authority,
    );
  }
  return new identity.DefaultAzureCredential({
    ...authority,
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(clientId === undefined
      ? {}
      : { managedIdentityClientId: clientId, workloadIdentityClientId: clientId }),
  });
}
