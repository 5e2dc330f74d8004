import { CustosError } from '../errors/index.js';
import type { Secret } from '../redaction/secret.js';
import { formatProblem } from '../secrets/problems.js';
import { defineSecrets, secret } from '../secrets/schema.js';
import { validateRules } from '../secrets/validate.js';
import {
  AWS_ACCOUNT_ID,
  AWS_REGION,
  keyReferenceMismatch,
  parseKeyReference,
} from './cloud/aws-key-arn.js';

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
      /** A key id, key ARN, alias name or alias ARN. */
      readonly keyId: string;
      /** `AWS_ENDPOINT_URL_KMS`, else `AWS_ENDPOINT_URL`: another endpoint speaking KMS. */
      readonly endpoint?: string;
      /** `AWS_KMS_ACCOUNT_ID`: keys of any other account are refused. */
      readonly accountId?: string;
      /** `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, when set. */
      readonly credentials?: {
        readonly accessKeyId: string;
        readonly secretAccessKey: Secret<string>;
        readonly sessionToken?: Secret<string>;
      };
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
  AWS_ENDPOINT_URL: secret({ ...plain, optional: true }),
  AWS_KMS_ACCOUNT_ID: secret({ ...plain, optional: true }),
  AWS_ACCESS_KEY_ID: secret({ ...plain, optional: true }),
  AWS_SECRET_ACCESS_KEY: secret({ optional: true, minBytes: 16, minEntropyBits: 0 }),
  AWS_SESSION_TOKEN: secret({ optional: true, minBytes: 16, minEntropyBits: 0 }),
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
 * as `rotation`: {@link openKmsFromEnvironment} registers them with the provider (AWS KMS
 * 90–2560 days, a transit key's `auto_rotate_period`); providers that cannot rotate their key
 * themselves, or whose rotation custos does not register, refuse them here.
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

  const url = (name: string, allowLoopbackHttp = false) => {
    const value = lookup(name);
    if (value === undefined) return;
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol === 'https:') return;
    if (allowLoopbackHttp && parsed?.protocol === 'http:' && isLoopbackHost(parsed.hostname)) {
      return;
    }
    problems.push(
      `${name}: must be an https:// URL${allowLoopbackHttp ? ' (http:// only on loopback)' : ''}`,
    );
  };
  if (provider === 'azure') {
    url('AZURE_KEY_VAULT_URL');
    checkAzureSettings(lookup, problems);
  }
  if (provider === 'aws') {
    url('AWS_ENDPOINT_URL_KMS', true);
    url('AWS_ENDPOINT_URL', true);
    checkAwsSettings(lookup, problems);
  }
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
  } else if (enabled && provider !== undefined) {
    const refusal = rotationRefusal(provider, Number(days));
    if (refusal !== undefined) problems.push(refusal);
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
        ...optional(
          lookup('AWS_ENDPOINT_URL_KMS') === undefined
            ? 'AWS_ENDPOINT_URL'
            : 'AWS_ENDPOINT_URL_KMS',
          'endpoint',
        ),
        ...optional('AWS_KMS_ACCOUNT_ID', 'accountId'),
        ...(result.values.AWS_SECRET_ACCESS_KEY === undefined
          ? {}
          : {
              credentials: {
                accessKeyId: text('AWS_ACCESS_KEY_ID'),
                secretAccessKey: result.values.AWS_SECRET_ACCESS_KEY as Secret<string>,
                ...(result.values.AWS_SESSION_TOKEN === undefined
                  ? {}
                  : { sessionToken: result.values.AWS_SESSION_TOKEN as Secret<string> }),
              },
            }),
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

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const isLoopbackHost = (host: string) => LOOPBACK.has(host) || /^127\.[0-9.]+$/.test(host);

/**
 * Why `KEY_ROTATION_ENABLED=true` cannot be honoured for `provider` at `days`, if so: custos
 * registers rotation with AWS KMS (`EnableKeyRotation`, 90–2560 days) and a transit key
 * (`auto_rotate_period`); a PKCS#11 token and a LocalKms file cannot rotate themselves, and
 * Azure's and Google's rotation policies are set on the key itself.
 */
function rotationRefusal(provider: KmsProviderName, days: number): string | undefined {
  switch (provider) {
    case 'aws':
      return days >= 90 && days <= 2560
        ? undefined
        : 'KEY_ROTATION_INTERVAL_DAYS: AWS KMS rotates keys every 90 to 2560 days';
    case 'custos':
    case 'vault':
      return undefined;
    case 'pkcs11':
    case 'local':
      return `KEY_ROTATION_ENABLED: a ${provider === 'local' ? 'LocalKms file' : 'PKCS#11 token'} cannot rotate its key by itself; rotate it on a schedule of your own (see docs/field-encryption.md) and leave KEY_ROTATION_ENABLED unset`;
    case 'azure':
    case 'gcp':
      return `KEY_ROTATION_ENABLED: custos does not register rotation with ${provider === 'azure' ? 'Azure Key Vault (set a rotation policy on the key)' : 'Google Cloud KMS (set a rotation period on the key)'}; leave KEY_ROTATION_ENABLED unset`;
  }
}

/**
 * AWS names and credentials: a key reference AWS accepts whose ARN (if any) is of the
 * configured region and account, a twelve-digit account, and a complete access key.
 */
function checkAwsSettings(lookup: (name: string) => string | undefined, problems: string[]) {
  const region = lookup('AWS_REGION');
  if (region !== undefined && !AWS_REGION.test(region)) {
    problems.push('AWS_REGION: must be an AWS region such as eu-west-1');
  }
  const account = lookup('AWS_KMS_ACCOUNT_ID');
  if (account !== undefined && !AWS_ACCOUNT_ID.test(account)) {
    problems.push('AWS_KMS_ACCOUNT_ID: must be twelve digits');
  }
  const keyId = lookup('AWS_KMS_KEY_ID');
  if (keyId !== undefined) {
    const reference = parseKeyReference(keyId);
    if (reference === undefined) {
      problems.push('AWS_KMS_KEY_ID: must be a key id, key ARN, alias name (alias/…) or alias ARN');
    } else if (region !== undefined) {
      const mismatch = keyReferenceMismatch(
        reference,
        region,
        account !== undefined && AWS_ACCOUNT_ID.test(account) ? account : undefined,
      );
      if (mismatch !== undefined) problems.push(`AWS_KMS_KEY_ID: ${mismatch}`);
    }
  }
  const hasId = lookup('AWS_ACCESS_KEY_ID') !== undefined;
  const hasSecret = lookup('AWS_SECRET_ACCESS_KEY') !== undefined;
  if (hasId !== hasSecret) {
    problems.push(
      hasId
        ? 'AWS_SECRET_ACCESS_KEY: required with AWS_ACCESS_KEY_ID'
        : 'AWS_ACCESS_KEY_ID: required with AWS_SECRET_ACCESS_KEY',
    );
  }
  if (lookup('AWS_SESSION_TOKEN') !== undefined && !hasSecret) {
    problems.push('AWS_SESSION_TOKEN: only with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
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
