import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CustosError, isCustosError } from '../errors/index.js';
import { defaultScrubber } from '../redaction/scrubber.js';
import { Secret } from '../redaction/secret.js';
import { chain } from './chain.js';
import { readExampleFile } from './example-file.js';
import { inferSchema } from './infer.js';
import type { SecretProblem } from './problems.js';
import { defaultEnvironment, type Environment, type SecretProvider } from './provider.js';
import { dotenvFiles } from './provider-dotenv.js';
import { processEnv } from './provider-env.js';
import { secretFiles } from './provider-files.js';
import { registerReadValue } from './register-values.js';
import type { SecretsSchema } from './schema.js';
import { backendChain } from './secrets-backend.js';
import { validateRules } from './validate.js';

/** Options of {@link checkEnvironment}. */
export interface CheckEnvironmentOptions {
  /** Env files, lowest precedence first; default the dotenv precedence set for the environment. */
  readonly envFiles?: readonly string[];
  /** Where relative paths and the default files are looked for; default the working directory. */
  readonly directory?: string;
  /** Default `NODE_ENV`, else `development`. `production` turns on the production gate. */
  readonly environment?: Environment;
  /** Validate against this schema. */
  readonly schema?: SecretsSchema;
  /**
   * Without a schema: every name of this example file is required and secret-looking names get
   * the strength rules. Default `.env.example` when it exists; without either, the names the
   * env files define are checked.
   */
  readonly exampleFile?: string;
  /** Directories of secret files (Docker / Kubernetes); `NAME_FILE` is always honoured. */
  readonly secretDirectories?: readonly string[];
  /**
   * Read the process environment in production too. Outside production it is always read, and
   * wins over the files.
   */
  readonly allowProcessEnv?: boolean;
  /** Key file for encrypted values (default `.env.keys` beside each env file). */
  readonly keysFile?: string;
  /** The process environment to use; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The provider chain (see `backendProviders`); default `SECRETS_BACKEND`. When set, exactly
   * these stores are read; unset, the process environment, secret files and env files are.
   */
  readonly backend?: string;
}

/** What {@link checkEnvironment} found. Holds values only inside `Secret`s. */
export interface EnvironmentReport {
  readonly environment: Environment;
  readonly production: boolean;
  /** What the names were checked against: `schema`, the example file's path, or `env files`. */
  readonly basis: string;
  /** The variables the schema checks. */
  readonly checkedNames: readonly string[];
  /** Problems that fail the check here. */
  readonly problems: readonly SecretProblem[];
  /** Problems tolerated in this environment (weak values in development). */
  readonly warnings: readonly SecretProblem[];
  /** Other notices (secret files readable by other users). */
  readonly notices: readonly string[];
  /** Every variable the files and schema define, decrypted, for a child process. */
  readonly variables: ReadonlyMap<string, Secret<string>>;
}

/**
 * Loads configuration the way an application would and checks all of it, collecting every
 * problem instead of stopping at the first: what `custos validate` prints and what `custos run`
 * checks before starting a program. Sensitive values read are registered with the process-wide
 * scrubber, and so are the credentials inside plain settings that are URLs (see
 * `urlSecretParts`).
 *
 * @example
 * ```ts
 * const report = await checkEnvironment({ envFiles: ['.env.production'], environment: 'production' });
 * for (const p of report.problems) console.error(`${p.name}: ${p.detail}`);
 * ```
 */
export async function checkEnvironment(
  options: CheckEnvironmentOptions = {},
): Promise<EnvironmentReport> {
  const env = options.env ?? process.env;
  const directory = resolve(options.directory ?? process.cwd());
  const environment = options.environment ?? defaultEnvironment(env);
  const production = environment === 'production';
  const readsProcessEnv = !production || options.allowProcessEnv === true;
  // Files named explicitly must exist: a typo must not validate an empty configuration.
  for (const file of options.envFiles ?? []) {
    if (!(await exists(resolve(directory, file)))) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `env file ${file} does not exist`);
    }
  }
  const notices: string[] = [];
  const files = secretFiles({
    directories: (options.secretDirectories ?? []).map((d) => resolve(directory, d)),
    env,
    onWarning: (message) => notices.push(message),
  });
  const dotenv = dotenvFiles({
    directory,
    mode: environment,
    production,
    onWarning: (message) => notices.push(message),
    env,
    ...(options.envFiles === undefined ? {} : { files: options.envFiles }),
    ...(options.keysFile === undefined ? {} : { keysFile: options.keysFile }),
  });
  const backends = backendChain({
    env,
    environment,
    directory,
    allowProcessEnv: options.allowProcessEnv === true,
    onWarning: (message) => notices.push(message),
    ...(options.backend === undefined ? {} : { backend: options.backend }),
    ...(options.envFiles === undefined ? {} : { envFiles: options.envFiles }),
    ...(options.keysFile === undefined ? {} : { keysFile: options.keysFile }),
    ...(options.secretDirectories === undefined
      ? {}
      : { secretDirectories: options.secretDirectories.map((d) => resolve(directory, d)) }),
  });
  if (backends?.some((b) => b.backend === 'env') && production && !readsProcessEnv)
    throw new CustosError(
      'ERR_INSECURE_PROVIDER',
      'SECRETS_BACKEND=env in production: the process environment is refused there (allow it with --allow-process-env)',
    );
  const providers: SecretProvider[] = backends?.map((b) => b.provider) ?? [files, dotenv];
  if (backends === undefined && readsProcessEnv)
    providers.unshift(processEnv({ env, allowInProduction: true }));
  const source = chain(providers);

  // The names the stores define (the whole process environment is not a store's list).
  const listed = backends?.filter((b) => b.backend !== 'env').map((b) => b.provider) ?? [
    files,
    dotenv,
  ];
  const definedNames = [...new Set((await Promise.all(listed.map((p) => p.list()))).flat())];
  const { schema, basis } = await chooseSchema(options, directory, definedNames);
  const names = [...new Set([...schema.names, ...definedNames])];
  const values = new Map<string, string | undefined>();
  const unreadable = new Map<string, string>();
  await Promise.all(
    names.map(async (name) => {
      try {
        values.set(name, await source.get(name));
      } catch (err) {
        const reason = isCustosError(err) ? `${err.message} [${err.code}]` : 'provider failed';
        unreadable.set(name, `unreadable: ${defaultScrubber.redact(reason)}`);
      }
    }),
  );
  const result = validateRules(schema.rules, (name) => values.get(name), {
    production,
    unreadable,
  });
  const variables = new Map<string, Secret<string>>();
  for (const name of names) {
    const value = values.get(name);
    if (value === undefined) continue;
    registerReadValue(defaultScrubber, value, schema.rules[name]?.sensitive !== false);
    variables.set(name, new Secret(value));
  }
  const extra = [...unreadable]
    .filter(([name]) => schema.rules[name] === undefined)
    .map(([name, detail]) => ({ name, kind: 'unreadable' as const, detail }));
  return {
    environment,
    production,
    basis,
    checkedNames: Object.keys(schema.rules),
    problems: hintProcessEnv([...result.problems, ...extra], readsProcessEnv, env),
    warnings: result.warnings,
    notices,
    variables,
  };
}

async function chooseSchema(
  options: CheckEnvironmentOptions,
  directory: string,
  definedNames: readonly string[],
): Promise<{ schema: SecretsSchema; basis: string }> {
  if (options.schema !== undefined) return { schema: options.schema, basis: 'schema' };
  const example = options.exampleFile ?? (await firstExisting(directory, ['.env.example']));
  if (example !== undefined) {
    const path = resolve(directory, example);
    return { schema: inferSchema(await readExampleFile(path)), basis: path };
  }
  return { schema: inferSchema(definedNames.map((name) => ({ name }))), basis: 'env files' };
}

async function firstExisting(directory: string, names: readonly string[]) {
  for (const name of names) {
    const path = resolve(directory, name);
    if (await exists(path)) return path;
  }
  return undefined;
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A variable missing in production but set in the process environment gets a hint. */
function hintProcessEnv(
  problems: SecretProblem[],
  readsProcessEnv: boolean,
  env: NodeJS.ProcessEnv,
): SecretProblem[] {
  if (readsProcessEnv) return problems;
  return problems.map((p) =>
    p.kind === 'missing' && env[p.name]
      ? {
          ...p,
          detail: `${p.detail} (it is set in the process environment, which production does not read unless allowed)`,
        }
      : p,
  );
}
