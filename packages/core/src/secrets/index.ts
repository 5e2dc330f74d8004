/**
 * The secrets SDK: load secrets and settings from providers (process environment, dotenv files
 * with encrypted values, secret files, and any store behind {@link SecretProvider}), cache them
 * (TTL, single-flight, stale-if-error, refresh-ahead, change events), validate them against a
 * schema that checks strength, and refuse weak values and the plain environment in production.
 * Every value loaded is registered with the redaction scrubber. Guide: `docs/secrets.md`.
 *
 * @example
 * ```ts
 * import { createSecrets, defineSecrets, secret } from '@custos/core/secrets';
 *
 * const schema = defineSecrets({
 *   JWT_SECRET: secret({ minBytes: 32 }),
 *   DB_PASSWORD: secret(),
 *   EMAIL_ENABLED: secret({ sensitive: false, optional: true }),
 *   SMTP_PASS: secret({ requiredWhen: { EMAIL_ENABLED: 'true' } }),
 * });
 * const secrets = createSecrets();
 * const config = await secrets.load(schema); // fails once, listing every problem
 * const apiKey = await secrets.getRequiredSecret('ADMIN_API_KEY');
 * ```
 * @module
 */
export { chain } from './chain.js';
export { createSecrets, type Secrets, type SecretsOptions } from './client.js';
export { dotenvPrecedence } from './dotenv-files.js';
export {
  type CheckEnvFilesOptions,
  checkEnvFiles,
  type EnvFileFinding,
  type EnvFileFindingKind,
  type EnvFilesReport,
} from './env-check.js';
export { ENCRYPTED_VALUE_PREFIX, isEncryptedValue } from './env-crypt.js';
export {
  decryptEnvFile,
  type EncryptEnvFileOptions,
  type EncryptEnvFileResult,
  encryptEnvFile,
} from './env-file-crypt.js';
export {
  ENV_KEY_PREFIX,
  ENV_KEYS_FILE,
  type EnvKeyOptions,
  type EnvKeySet,
  envKeyVariable,
  findEnvKeys,
  generateEnvKey,
  modeOfEnvFile,
} from './env-key.js';
export {
  type CheckEnvironmentOptions,
  checkEnvironment,
  type EnvironmentReport,
} from './environment.js';
export { readExampleFile } from './example-file.js';
export {
  type ExampleVariable,
  inferSchema,
  NAME_KIND_RULES,
  type SecretNameKind,
  secretKindOfName,
} from './infer.js';
export type { KvWatchOptions } from './kv-watch.js';
export {
  formatProblem,
  type ProblemKind,
  SecretMissing,
  type SecretProblem,
  SecretsInvalid,
  WeakSecret,
} from './problems.js';
export {
  defaultEnvironment,
  type Environment,
  type NonCurrentStage,
  type SecretProvider,
  type SecretStage,
  type WarningListener,
} from './provider.js';
export {
  type AwsSecretsManagerClient,
  type AwsSecretsManagerOptions,
  awsSecretsManager,
} from './provider-aws.js';
export { type DotenvFilesOptions, dotenvFiles } from './provider-dotenv.js';
export { type ProcessEnvOptions, processEnv } from './provider-env.js';
export { type SecretFilesOptions, secretFiles } from './provider-files.js';
export { type KvAuth, type VaultKvOptions, vaultKv } from './provider-kv.js';
export type {
  Condition,
  ResolvedRule,
  RuleOutput,
  SecretRule,
  SecretRuleOptions,
} from './rules.js';
export {
  defineSecrets,
  isSecretsSchema,
  type SchemaOutput,
  type SchemaShape,
  type SecretsSchema,
  secret,
} from './schema.js';
export { loadSchemaFile, schemaFromJson } from './schema-file.js';
export {
  backendProviders,
  SECRETS_BACKENDS,
  type SecretsBackend,
  type SecretsBackendOptions,
} from './secrets-backend.js';
export type {
  StandardIssue,
  StandardResult,
  StandardSchemaProps,
  StandardSchemaV1,
} from './standard-schema.js';
export { decodedByteLength, estimateEntropyBits, type ValueEncoding } from './strength.js';
export { type UrlSecretParts, urlSecretParts } from './url-secrets.js';
export { classifyWeakValue, type Weakness } from './weak-values.js';
