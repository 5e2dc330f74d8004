import { CustosError } from '../errors/index.js';
import type { Secret } from '../redaction/secret.js';
import { formatProblem } from '../secrets/problems.js';
import { defineSecrets, secret } from '../secrets/schema.js';
import { validateRules } from '../secrets/validate.js';

/**
 * The values `KMS_PROVIDER` takes. `custos` and `vault` are the same transit client.
 *
 * @example
 * ```ts
 * KMS_PROVIDERS.includes(process.env.KMS_PROVIDER as KmsProviderName);
 * ```
 */
export const KMS_PROVIDERS = ['custos', 'vault', 'aws', 'azure', 'gcp', 'pkcs11', 'local'] as const;
/** A provider `KMS_PROVIDER` selects. */
export type KmsProviderName = (typeof KMS_PROVIDERS)[number];

/** `KEY_ROTATION_ENABLED` / `KEY_ROTATION_INTERVAL_DAYS`, read and checked. */
export interface KeyRotationSettings {
  readonly enabled: boolean;
  /** Days between rotations of the data-key wrapping key; set when `enabled`. */
  readonly intervalDays?: number;
}

/** What the environment selects: the provider and its settings (the PIN stays a `Secret`). */
export type KmsSettings = { readonly rotation: KeyRotationSettings } & (
  | { readonly provider: 'custos' | 'vault'; readonly keyName: string }
  | { readonly provider: 'local'; readonly file: string; readonly keyName: string }
  | {
      readonly provider: 'aws';
      readonly region: string;
      readonly keyId: string;
      readonly endpoint?: string;
    }
  | {
      readonly provider: 'azure';
      readonly vaultUrl: string;
      readonly keyName: string;
      readonly keyVersion?: string;
      /** `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`: a service principal, or a user-assigned identity. */
      readonly tenantId?: string;
      readonly clientId?: string;
      /** `AZURE_CLIENT_SECRET`, with both ids; without it, `DefaultAzureCredential`. */
      readonly clientSecret?: Secret<string>;
    }
  | {
      readonly provider: 'gcp';
      readonly keyName: string;
      /** `GOOGLE_APPLICATION_CREDENTIALS`; without it, Application Default Credentials. */
      readonly credentialsFile?: string;
    }
  | {
      readonly provider: 'pkcs11';
      readonly library: string;
      readonly pin: Secret<string>;
      readonly keyLabel: string;
      readonly tokenLabel?: string;
    }
);

const plain = { sensitive: false } as const;
const when = (...providers: KmsProviderName[]) =>
  ({ sensitive: false, requiredWhen: { KMS_PROVIDER: providers } }) as const;

/**
 * The variables `KMS_PROVIDER` and each provider read, as a secrets schema: check them with
 * `custos secrets check`, or load them with the rest of an application's schema.
 *
 * @example
 * ```ts
 * const config = await createSecrets().load(kmsSettingsSchema);
 * ```
 */
export const kmsSettingsSchema = defineSecrets({
  KMS_PROVIDER: secret({ ...plain, oneOf: KMS_PROVIDERS }),
  KMS_KEY_NAME: secret(when('custos', 'vault', 'local')),
  LOCAL_KMS_FILE: secret(when('local')),
  AWS_REGION: secret(when('aws')),
  AWS_KMS_KEY_ID: secret(when('aws')),
  AWS_ENDPOINT_URL_KMS: secret({ ...plain, optional: true }),
  AZURE_KEY_VAULT_URL: secret(when('azure')),
  AZURE_KEY_NAME: secret(when('azure')),
  AZURE_KEY_VERSION: secret({ ...plain, optional: true }),
  AZURE_TENANT_ID: secret({ ...plain, optional: true }),
  AZURE_CLIENT_ID: secret({ ...plain, optional: true }),
  AZURE_CLIENT_SECRET: secret({ optional: true, minBytes: 8, minEntropyBits: 0 }),
  GCP_KMS_KEY_NAME: secret(when('gcp')),
  GOOGLE_APPLICATION_CREDENTIALS: secret({ ...plain, optional: true }),
  PKCS11_LIBRARY: secret(when('pkcs11')),
  PKCS11_PIN: secret({
    requiredWhen: { KMS_PROVIDER: 'pkcs11' },
    minBytes: 4,
    minEntropyBits: 0,
  }),
  PKCS11_KEY_LABEL: secret(when('pkcs11')),
  PKCS11_TOKEN_LABEL: secret({ ...plain, optional: true }),
  KEY_ROTATION_ENABLED: secret({ ...plain, optional: true, oneOf: ['true', 'false'] }),
  KEY_ROTATION_INTERVAL_DAYS: secret({
    ...plain,
    requiredWhen: { KEY_ROTATION_ENABLED: 'true' },
  }),
});

const GCP_KEY_NAME =
  /^projects\/[A-Za-z0-9][A-Za-z0-9.:-]{0,62}\/locations\/[A-Za-z0-9-]{1,63}\/keyRings\/[A-Za-z0-9_-]{1,63}\/cryptoKeys\/[A-Za-z0-9_-]{1,63}$/;

/**
 * Reads `KMS_PROVIDER` and the selected provider's variables, checks them all, and returns the
 * settings, or throws one `ERR_KMS_CONFIG` listing every problem by variable name (never a
 * value). Nothing is contacted.
 *
 * `KEY_ROTATION_ENABLED` / `KEY_ROTATION_INTERVAL_DAYS` are read and checked here and returned
 * as `rotation`; custos has no rotation engine yet, so nothing rotates the key on that schedule
 * (rotate it with the provider's own schedule, see `docs/field-encryption.md`).
 *
 * @example
 * ```ts
 * const settings = readKmsSettings(process.env);
 * settings.provider; // 'pkcs11'
 * ```
 */
export function readKmsSettings(env: NodeJS.ProcessEnv = process.env): KmsSettings {
  const lookup = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const result = validateRules(kmsSettingsSchema.rules, lookup, { production: false });
  const problems = result.problems.map(formatProblem);
  const text = (name: string) => lookup(name) as string;
  const provider = lookup('KMS_PROVIDER') as KmsProviderName | undefined;

  const url = (name: string) => {
    const value = lookup(name);
    if (value === undefined) return;
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol !== 'https:') problems.push(`${name}: must be an https:// URL`);
  };
  if (provider === 'azure') {
    url('AZURE_KEY_VAULT_URL');
    checkAzureSettings(lookup, problems);
  }
  if (provider === 'aws') url('AWS_ENDPOINT_URL_KMS');
  if (provider === 'gcp') {
    const name = lookup('GCP_KMS_KEY_NAME');
    if (name !== undefined && (!GCP_KEY_NAME.test(name) || name.includes('..'))) {
      problems.push(
        'GCP_KMS_KEY_NAME: must be projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>',
      );
    }
  }
  const enabled = lookup('KEY_ROTATION_ENABLED') === 'true';
  const days = lookup('KEY_ROTATION_INTERVAL_DAYS');
  if (days !== undefined && !/^[1-9][0-9]{0,3}$/.test(days)) {
    problems.push('KEY_ROTATION_INTERVAL_DAYS: must be a whole number of days from 1 to 9999');
  }
  if (problems.length > 0) {
    throw new CustosError(
      'ERR_KMS_CONFIG',
      `KMS settings are invalid:\n  ${problems.join('\n  ')}`,
    );
  }
  const rotation: KeyRotationSettings = enabled
    ? { enabled, intervalDays: Number(days) }
    : { enabled: false };
  const optional = (name: string, key: string) =>
    lookup(name) === undefined ? {} : { [key]: text(name) };

  switch (provider as KmsProviderName) {
    case 'custos':
    case 'vault':
      return { provider: provider as 'custos', keyName: text('KMS_KEY_NAME'), rotation };
    case 'local':
      return {
        provider: 'local',
        file: text('LOCAL_KMS_FILE'),
        keyName: text('KMS_KEY_NAME'),
        rotation,
      };
    case 'aws':
      return {
        provider: 'aws',
        region: text('AWS_REGION'),
        keyId: text('AWS_KMS_KEY_ID'),
        ...optional('AWS_ENDPOINT_URL_KMS', 'endpoint'),
        rotation,
      };
    case 'azure':
      return {
        provider: 'azure',
        vaultUrl: text('AZURE_KEY_VAULT_URL'),
        keyName: text('AZURE_KEY_NAME'),
        ...optional('AZURE_KEY_VERSION', 'keyVersion'),
        ...optional('AZURE_TENANT_ID', 'tenantId'),
        ...optional('AZURE_CLIENT_ID', 'clientId'),
        ...(result.values.AZURE_CLIENT_SECRET === undefined
          ? {}
          : { clientSecret: result.values.AZURE_CLIENT_SECRET as Secret<string> }),
        rotation,
      };
    case 'gcp':
      return {
        provider: 'gcp',
        keyName: text('GCP_KMS_KEY_NAME'),
        ...optional('GOOGLE_APPLICATION_CREDENTIALS', 'credentialsFile'),
        rotation,
      };
    case 'pkcs11':
      return {
        provider: 'pkcs11',
        library: text('PKCS11_LIBRARY'),
        pin: result.values.PKCS11_PIN as Secret<string>,
        keyLabel: text('PKCS11_KEY_LABEL'),
        ...optional('PKCS11_TOKEN_LABEL', 'tokenLabel'),
        rotation,
      };
  }
}

/**
 * Azure names and credentials: a key name and version as Key Vault spells them, and a client
 * secret only with the tenant and client it belongs to (DefaultAzureCredential would otherwise
 * ignore it silently and try another identity).
 */
function checkAzureSettings(lookup: (name: string) => string | undefined, problems: string[]) {
  const name = lookup('AZURE_KEY_NAME');
  if (name !== undefined && !/^[A-Za-z0-9-]{1,127}$/.test(name)) {
    problems.push('AZURE_KEY_NAME: must be 1-127 letters, digits and dashes');
  }
  const version = lookup('AZURE_KEY_VERSION');
  if (version !== undefined && !/^[A-Za-z0-9]{1,64}$/.test(version)) {
    problems.push('AZURE_KEY_VERSION: must be a key version id (letters and digits)');
  }
  if (lookup('AZURE_CLIENT_SECRET') !== undefined) {
    for (const needed of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID']) {
      if (lookup(needed) === undefined) {
        problems.push(`${needed}: required with AZURE_CLIENT_SECRET (a service principal)`);
      }
    }
  }
}
