import { existsSync } from 'node:fs';
import { CustosError } from '../errors/index.js';
import type { FieldKms } from '../fields/field-kms.js';
import { createAwsKms } from './cloud/aws-kms.js';
import { azureCredentialFor } from './cloud/azure-credential.js';
import { openAzureKeyVaultKms } from './cloud/azure-key-vault-kms.js';
import { openGcpKms } from './cloud/gcp-kms.js';
import { localKmsDataKeys, transitDataKeys } from './field-data-keys.js';
import { type KmsSettings, readKmsSettings } from './kms-settings.js';
import { LocalKms } from './local-kms.js';
import { openPkcs11Kms } from './pkcs11/pkcs11-kms.js';
import { createTransitClient } from './transit-client.js';
import { guardUnsavedVersions } from './unsaved-versions.js';

/** A {@link FieldKms} chosen by the environment, with what was selected. */
export interface EnvironmentKms {
  readonly kms: FieldKms;
  readonly settings: KmsSettings;
  /** Releases what the provider holds (a PKCS#11 session, a cloud client's connections). */
  close(): Promise<void>;
}

/** Options of {@link openKmsFromEnvironment}. */
export interface OpenKmsFromEnvironmentOptions {
  /**
   * Register `KEY_ROTATION_*` with the provider when `KEY_ROTATION_ENABLED=true` (default
   * true): one call at open. Tools that only read (`custos encryption status`) pass false.
   */
  readonly registerRotation?: boolean;
}

const DAY_SECONDS = 86_400;

/**
 * Opens the field-encryption KMS that `KMS_PROVIDER` selects, with the provider's settings from
 * the environment ({@link readKmsSettings}: one `ERR_KMS_CONFIG` naming every missing or
 * invalid variable). `custos` / `vault` use the transit client (`CUSTOS_ADDR` / `VAULT_ADDR`,
 * `CUSTOS_TOKEN` / `VAULT_TOKEN`) with `KMS_KEY_NAME`; `local` a LocalKms file; `pkcs11` a
 * token; `azure` a Key Vault key (`AZURE_KEY_VAULT_URL`, `AZURE_KEY_NAME`, a service principal
 * from `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` or else
 * `DefaultAzureCredential`); `gcp` a Cloud KMS key (`GCP_KMS_KEY_NAME`, credentials from
 * `GOOGLE_APPLICATION_CREDENTIALS` or Application Default Credentials); `aws` a KMS key
 * (`AWS_REGION`, `AWS_KMS_KEY_ID`, optionally `AWS_KMS_ACCOUNT_ID`, `AWS_ENDPOINT_URL_KMS` /
 * `AWS_ENDPOINT_URL`, credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
 * `AWS_SESSION_TOKEN` or else the SDK's default chain).
 *
 * Nothing is contacted before first use, except with `KEY_ROTATION_ENABLED=true`: the rotation
 * policy is then registered at open — AWS `EnableKeyRotation` every `KEY_ROTATION_INTERVAL_DAYS`,
 * or the transit key's `auto_rotate_period` — and read back, and a failure fails the open.
 *
 * @example
 * ```ts
 * const { kms, close } = await openKmsFromEnvironment();
 * const fc = createFieldCipher({ kms: createCachingKms(kms) });
 * ```
 */
export async function openKmsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  options: OpenKmsFromEnvironmentOptions = {},
): Promise<EnvironmentKms> {
  const settings = readKmsSettings(env);
  const days = settings.rotation.enabled ? settings.rotation.intervalDays : undefined;
  const rotate = options.registerRotation !== false && days !== undefined;
  const none = async () => {};
  switch (settings.provider) {
    case 'custos':
    case 'vault': {
      const transit = createTransitClient({ env });
      if (rotate) await transit.setAutoRotatePeriod(settings.keyName, days * DAY_SECONDS);
      return { kms: transitDataKeys(transit, settings.keyName), settings, close: none };
    }
    case 'aws': {
      const { credentials } = settings;
      const kms = createAwsKms({
        keyId: settings.keyId,
        region: settings.region,
        ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
        ...(settings.accountId === undefined ? {} : { accountId: settings.accountId }),
        ...(credentials === undefined
          ? {}
          : {
              clientConfig: {
                credentials: {
                  accessKeyId: credentials.accessKeyId,
                  secretAccessKey: credentials.secretAccessKey.reveal(),
                  ...(credentials.sessionToken === undefined
                    ? {}
                    : { sessionToken: credentials.sessionToken.reveal() }),
                },
              },
            }),
      });
      if (rotate) {
        try {
          await kms.enableKeyRotation(days);
        } catch (err) {
          await kms.close();
          throw err;
        }
      }
      return { kms, settings, close: () => kms.close() };
    }
    case 'local': {
      // LocalKms.open starts an empty file where none exists: a setting must name a real one.
      if (!existsSync(settings.file)) {
        throw new CustosError(
          'ERR_KMS_CONFIG',
          `LOCAL_KMS_FILE: ${JSON.stringify(settings.file)} does not exist`,
        );
      }
      const local = await LocalKms.open(settings.file);
      const key = local.readKey(settings.keyName); // ERR_KEY_NOT_FOUND names a missing KMS_KEY_NAME
      // Nothing here saves the file: a version rotated in memory alone would be lost at exit.
      const kms = guardUnsavedVersions(localKmsDataKeys(local, settings.keyName), {
        keyName: settings.keyName,
        file: settings.file,
        savedVersion: key.latest_version as number,
      });
      return { kms, settings, close: none };
    }
    case 'pkcs11': {
      const kms = await openPkcs11Kms({
        library: settings.library,
        pin: settings.pin.reveal(),
        keyLabel: settings.keyLabel,
        ...(settings.tokenLabel === undefined ? {} : { tokenLabel: settings.tokenLabel }),
      });
      return { kms, settings, close: () => kms.close() };
    }
    case 'azure': {
      const kms = await openAzureKeyVaultKms({
        vaultUrl: settings.vaultUrl,
        keyName: settings.keyName,
        ...(settings.keyVersion === undefined ? {} : { keyVersion: settings.keyVersion }),
        credential: await azureCredentialFor(settings),
      });
      return { kms, settings, close: () => kms.close() };
    }
    case 'gcp': {
      // The client would only fail on first use: a named key file must exist now.
      if (settings.credentialsFile !== undefined && !existsSync(settings.credentialsFile)) {
        throw new CustosError(
          'ERR_KMS_CONFIG',
          `GOOGLE_APPLICATION_CREDENTIALS: ${JSON.stringify(settings.credentialsFile)} does not exist`,
        );
      }
      const kms = await openGcpKms({
        keyName: settings.keyName,
        ...(settings.credentialsFile === undefined
          ? {}
          : { keyFilename: settings.credentialsFile }),
      });
      return { kms, settings, close: () => kms.close() };
    }
  }
}
