import { CustosError } from '../errors/index.js';
import type { SecretProvider, WarningListener } from './provider.js';
import { awsSecretsManager } from './provider-aws.js';
import { dotenvFiles } from './provider-dotenv.js';
import { processEnv } from './provider-env.js';
import { secretFiles } from './provider-files.js';
import { vaultKv } from './provider-kv.js';

/**
 * The backends `SECRETS_BACKEND` may name (comma-separated for a chain, first wins);
 * `aws-secrets-manager` is accepted as `aws`.
 *
 * @example
 * ```ts
 * console.log(`SECRETS_BACKEND: one or more of ${SECRETS_BACKENDS.join(', ')}`);
 * ```
 */
export const SECRETS_BACKENDS = ['env', 'files', 'dotenv', 'custos', 'vault', 'aws'] as const;

/**
 * One of {@link SECRETS_BACKENDS}.
 *
 * @example
 * ```ts
 * const backend: SecretsBackend = 'vault';
 * ```
 */
export type SecretsBackend = (typeof SECRETS_BACKENDS)[number];

/**
 * What the backends are built with, besides the environment's settings.
 *
 * @example
 * ```ts
 * const options: SecretsBackendOptions = { environment: 'production', secretDirectories: ['/run/secrets'] };
 * backendProviders(options);
 * ```
 */
export interface SecretsBackendOptions {
  /** The backend list; default `SECRETS_BACKEND` of `env`. */
  readonly backend?: string;
  /** Where `SECRETS_BACKEND` and every setting are read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** The environment (`dotenv` picks its files by it); default `NODE_ENV`, else `development`. */
  readonly environment?: string;
  /** `dotenv`: where the files are, and which (default the precedence set of the environment). */
  readonly directory?: string;
  readonly envFiles?: readonly string[];
  readonly keysFile?: string;
  /** `files`: the directories; default `SECRETS_DIR` (comma-separated), else `/run/secrets`. */
  readonly secretDirectories?: readonly string[];
  /** `env` in production: read the process environment anyway (default false: refused there). */
  readonly allowProcessEnv?: boolean;
  readonly onWarning?: WarningListener;
}

const missing = (backend: string, what: string) =>
  new CustosError('ERR_INVALID_ARGUMENT', `SECRETS_BACKEND=${backend} needs ${what}`);

const setting = (env: NodeJS.ProcessEnv, name: string) => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

/** `<mount>/<path>` of a KV secret (`secret/app/production`), as seed 004's `VAULT_PATH`. */
function kvLocation(backend: string, variable: string, value: string | undefined) {
  const parts = value?.split('/').filter((p) => p !== '') ?? [];
  if (parts.length < 2)
    throw missing(backend, `${variable}=<mount>/<path> (e.g. secret/app/production)`);
  return { mount: parts[0] as string, path: parts.slice(1).join('/') };
}

/** A custos or Vault server's KV provider from `<PREFIX>_ADDR`, `_PATH`, `_TOKEN` or AppRole. */
function kvBackend(backend: 'custos' | 'vault', env: NodeJS.ProcessEnv): SecretProvider {
  const prefix = backend === 'custos' ? 'CUSTOS' : 'VAULT';
  const address = setting(env, `${prefix}_ADDR`);
  if (address === undefined) throw missing(backend, `${prefix}_ADDR (the server's address)`);
  const { mount, path } = kvLocation(backend, `${prefix}_PATH`, setting(env, `${prefix}_PATH`));
  const token = setting(env, `${prefix}_TOKEN`);
  const roleId = setting(env, `${prefix}_ROLE_ID`);
  const secretId = setting(env, `${prefix}_SECRET_ID`);
  if (token === undefined && (roleId === undefined || secretId === undefined))
    throw missing(
      backend,
      `${prefix}_TOKEN, or ${prefix}_ROLE_ID and ${prefix}_SECRET_ID (AppRole)`,
    );
  return vaultKv({
    address,
    mount,
    path,
    env,
    auth:
      token !== undefined ? { token } : { roleId: roleId as string, secretId: secretId as string },
  });
}

/** AWS Secrets Manager from `AWS_SECRETS_PREFIX` or `AWS_SECRET_ID`, region and endpoint. */
function awsBackend(backend: string, env: NodeJS.ProcessEnv): SecretProvider {
  const prefix = setting(env, 'AWS_SECRETS_PREFIX');
  const secretId = setting(env, 'AWS_SECRET_ID');
  if ((prefix === undefined) === (secretId === undefined))
    throw missing(
      backend,
      'either AWS_SECRETS_PREFIX (a secret per variable, e.g. app/production/) or AWS_SECRET_ID (one JSON secret)',
    );
  const region = setting(env, 'AWS_REGION') ?? setting(env, 'AWS_DEFAULT_REGION');
  if (region === undefined) throw missing(backend, 'AWS_REGION');
  const endpoint =
    setting(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? setting(env, 'AWS_ENDPOINT_URL');
  const stage = setting(env, 'AWS_SECRETS_VERSION_STAGE');
  const accessKeyId = setting(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = setting(env, 'AWS_SECRET_ACCESS_KEY');
  return awsSecretsManager({
    ...(prefix === undefined ? { secretId: secretId as string } : { prefix }),
    ...(stage === undefined ? {} : { versionStage: stage }),
    clientConfig: {
      region,
      ...(endpoint === undefined ? {} : { endpoint }),
      // The SDK reads these from process.env itself; from `env` when another one is given.
      ...(accessKeyId !== undefined && secretAccessKey !== undefined
        ? { credentials: { accessKeyId, secretAccessKey } }
        : {}),
    },
  });
}

/**
 * The provider chain `SECRETS_BACKEND` names (seed 004's switch): `env`, `files`, `dotenv`,
 * `custos`, `vault`, `aws` (or `aws-secrets-manager`), comma-separated for a chain in which the
 * first provider holding a name wins. Undefined when `SECRETS_BACKEND` is unset or empty: the
 * caller's default applies. Each backend's settings come from the environment, and a missing
 * one is `ERR_INVALID_ARGUMENT` naming the variable (never a value):
 *
 * - `custos`: `CUSTOS_ADDR`, `CUSTOS_PATH` (`<mount>/<path>`), `CUSTOS_TOKEN` or
 *   `CUSTOS_ROLE_ID` + `CUSTOS_SECRET_ID`; `vault`: the same with `VAULT_`.
 * - `aws`: `AWS_SECRETS_PREFIX` or `AWS_SECRET_ID`, `AWS_REGION`, optionally
 *   `AWS_ENDPOINT_URL_SECRETS_MANAGER` (a custos server) and `AWS_SECRETS_VERSION_STAGE`.
 * - `files`: `SECRETS_DIR` (comma-separated; default `/run/secrets`).
 * - `env`: the process environment, which production refuses (`createSecrets`) unless
 *   `allowProcessEnv`.
 *
 * @example
 * ```ts
 * // SECRETS_BACKEND=vault VAULT_ADDR=https://vault:8200 VAULT_PATH=secret/app/production VAULT_TOKEN=…
 * const secrets = createSecrets({ providers: backendProviders() });
 * ```
 */
export function backendProviders(
  options: SecretsBackendOptions = {},
): SecretProvider[] | undefined {
  return backendChain(options)?.map((b) => b.provider);
}

/**
 * {@link backendProviders} with each provider's backend name (`checkEnvironment` lists the
 * names a store defines, but not the whole process environment).
 */
export function backendChain(
  options: SecretsBackendOptions = {},
): { backend: SecretsBackend; provider: SecretProvider }[] | undefined {
  const env = options.env ?? process.env;
  const spec = (options.backend ?? env.SECRETS_BACKEND ?? '').trim();
  if (spec === '') return undefined;
  const names = spec.split(',').map((n) => (n.trim() === 'aws-secrets-manager' ? 'aws' : n.trim()));
  return names.map((name) => ({
    backend: name as SecretsBackend,
    provider: providerOf(name, env, options),
  }));
}

function providerOf(
  name: string,
  env: NodeJS.ProcessEnv,
  options: SecretsBackendOptions,
): SecretProvider {
  switch (name) {
    case 'env':
      return processEnv({ env, allowInProduction: options.allowProcessEnv === true });
    case 'files': {
      const dirs = setting(env, 'SECRETS_DIR')
        ?.split(',')
        .map((d) => d.trim());
      const directories = options.secretDirectories?.length ? options.secretDirectories : dirs;
      return secretFiles({
        env,
        ...(directories === undefined ? {} : { directories }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
      });
    }
    case 'dotenv':
      return dotenvFiles({
        env,
        ...(options.environment === undefined ? {} : { mode: options.environment }),
        ...(options.directory === undefined ? {} : { directory: options.directory }),
        ...(options.envFiles?.length ? { files: options.envFiles } : {}),
        ...(options.keysFile === undefined ? {} : { keysFile: options.keysFile }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
      });
    case 'custos':
    case 'vault':
      return kvBackend(name as 'custos' | 'vault', env);
    case 'aws':
      return awsBackend(name, env);
    default:
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `SECRETS_BACKEND names an unknown backend; use one or more of ${SECRETS_BACKENDS.join(', ')} (comma-separated)`,
      );
  }
}
