import { shannonEntropy } from '../filters/entropy.js';
import { patternRule, type Rule } from './rule.js';

/** AWS access key ids: a documented four-letter prefix and 16 base32 characters. */
export const awsAccessKeyId: Rule = patternRule({
  id: 'aws-access-key-id',
  description: 'AWS access key id (AKIA long-term, ASIA temporary)',
  source:
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids',
  keywords: ['akia', 'asia', 'abia', 'acca'],
  confidence: 'medium',
  pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/g,
});

/** AWS secret access keys: 40 base64 characters, recognisable only by the name they are given. */
export const awsSecretAccessKey: Rule = patternRule({
  id: 'aws-secret-access-key',
  description: 'AWS secret access key assigned to an aws_secret_access_key-like name',
  source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html',
  keywords: ['secret_access_key', 'secretaccesskey', 'secret-access-key', 'aws_secret'],
  confidence: 'high',
  pattern:
    /(?:aws)?[_-]?secret[_-]?(?:access)?[_-]?key["'\]]*\s*(?:=>|:=|=|:)\s*["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
  validate: (secret) => (shannonEntropy(secret) >= 4 ? 'high' : null),
});

/** The private key inside a Google Cloud service-account key file (JSON). */
export const gcpServiceAccountKey: Rule = {
  ...patternRule({
    id: 'gcp-service-account-key',
    description: 'Google Cloud service-account key file (JSON private_key)',
    source: 'https://cloud.google.com/iam/docs/keys-create-delete',
    keywords: ['"private_key"'],
    confidence: 'high',
    pattern:
      /"private_key"\s*:\s*"(?<secret>-----BEGIN PRIVATE KEY-----(?:\\n|\\r\\n)[A-Za-z0-9+/=\\rn]{200,}?-----END PRIVATE KEY-----(?:\\n)?)"/g,
  }),
  structured: true,
  wholeText: true,
};

/** Google API keys (`AIza` and 35 characters). */
export const gcpApiKey: Rule = patternRule({
  id: 'gcp-api-key',
  description: 'Google Cloud API key',
  source: 'https://cloud.google.com/docs/authentication/api-keys',
  keywords: ['aiza'],
  confidence: 'medium',
  pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
});

/** Azure storage account keys: 64 random bytes in base64, in a connection string or by name. */
export const azureStorageKey: Rule = patternRule({
  id: 'azure-storage-account-key',
  description: 'Azure storage account key (connection string AccountKey= or by name)',
  source:
    'https://learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string',
  keywords: [
    'accountkey',
    'account_key',
    'account-key',
    'storage_key',
    'storagekey',
    'storage-key',
  ],
  confidence: 'high',
  pattern:
    /(?:AccountKey=|(?:storage|account)[_-]?(?:access[_-]?)?key["'\]]*\s*(?:=|:)\s*["']?)(?<secret>[A-Za-z0-9+/]{86}==)/gi,
});

/** Shared access keys of Service Bus, Event Hubs and IoT Hub connection strings (32 bytes). */
export const azureSharedAccessKey: Rule = patternRule({
  id: 'azure-shared-access-key',
  description: 'Azure Service Bus / Event Hubs / IoT Hub SharedAccessKey',
  source: 'https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-sas',
  keywords: ['sharedaccesskey='],
  confidence: 'high',
  pattern: /SharedAccessKey=(?<secret>[A-Za-z0-9+/]{43}=)/g,
});

/** Microsoft Entra client secrets: the current format carries `Q~` after four characters. */
export const azureClientSecret: Rule = patternRule({
  id: 'azure-client-secret',
  description: 'Microsoft Entra (Azure AD) application client secret',
  source: 'https://learn.microsoft.com/en-us/entra/identity-platform/how-to-add-credentials',
  keywords: ['q~'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g,
  validate: (secret) => (shannonEntropy(secret) >= 4 ? 'high' : null),
});

/** Shared access signatures in URLs (`sig=` with a storage service version). */
export const azureSasToken: Rule = patternRule({
  id: 'azure-sas-signature',
  description: 'Azure shared access signature (sig= in a SAS URL or token)',
  source: 'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
  keywords: ['sig='],
  confidence: 'medium',
  pattern: /[?&]sv=\d{4}-\d\d-\d\d&[^\s"'<>]*?\bsig=(?<secret>[A-Za-z0-9%+/]{40,}(?:%3D|=){0,2})/g,
});
