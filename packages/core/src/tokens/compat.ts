import { hmacSha256 } from '../crypto/hmac.js';
import { CustosError } from '../errors/index.js';
import { isSecret, type Secret } from '../redaction/secret.js';
import { hmacKeyMaterial } from './algorithms.js';
import { JwtKeyset, type KeyEntry } from './keyset.js';
import { checkJwtSecret } from './secret-strength.js';
import type { TokenKeys } from './token-service.js';

/** A secret as a secrets source hands it over. */
export type SecretValue = string | Secret<string>;

/**
 * Where compat mode reads its variables: a plain record (`process.env`, a parsed dotenv
 * file) or a getter, such as the secrets SDK's `getOptionalSecret`.
 */
export type SecretSource =
  | Readonly<Record<string, string | undefined>>
  | ((name: string) => SecretValue | undefined | Promise<SecretValue | undefined>);

/** Options for {@link createCompatKeysets}. */
export interface CompatKeysetsOptions {
  readonly secrets: SecretSource;
  /** Override the variable names (defaults: `JWT_SECRET`, `JWT_SECRET_PREVIOUS`, …). */
  readonly names?: {
    readonly secret?: string;
    readonly secretPrevious?: string;
    readonly refreshSecret?: string;
    readonly refreshSecretPrevious?: string;
  };
}

const KID_LABEL = 'custos/jwt-kid/v1';

/**
 * Compatibility mode for deployments configured with shared HS256 secrets:
 * `JWT_SECRET` signs access tokens and `JWT_SECRET_PREVIOUS` still verifies them;
 * `JWT_REFRESH_SECRET` / `JWT_REFRESH_SECRET_PREVIOUS` do the same for refresh tokens (when
 * unset, refresh tokens use the access secrets; their `typ` still keeps the two apart).
 * Every value is strength-checked (32+ bytes, not a placeholder, distinct where it must be);
 * errors name the variable and never the value.
 *
 * Each secret gets a `kid` derived from it (a truncated HMAC keyed by the secret), the same in
 * every process, so verification picks the key by `kid` instead of trying each secret. A
 * previous secret verifies until you remove the variable: the grace window is your deployment.
 *
 * @example
 * ```ts
 * const keys = await createCompatKeysets({ secrets: process.env });
 * const tokens = createTokenService({ keys, issuer: 'api', audience: 'web' });
 * ```
 */
export async function createCompatKeysets(options: CompatKeysetsOptions): Promise<TokenKeys> {
  const names = {
    secret: options.names?.secret ?? 'JWT_SECRET',
    secretPrevious: options.names?.secretPrevious ?? 'JWT_SECRET_PREVIOUS',
    refreshSecret: options.names?.refreshSecret ?? 'JWT_REFRESH_SECRET',
    refreshSecretPrevious: options.names?.refreshSecretPrevious ?? 'JWT_REFRESH_SECRET_PREVIOUS',
  };
  const read = reader(options.secrets);
  const [secret, secretPrevious, refreshSecret, refreshSecretPrevious] = await Promise.all([
    read(names.secret),
    read(names.secretPrevious),
    read(names.refreshSecret),
    read(names.refreshSecretPrevious),
  ]);
  if (secret === undefined) {
    throw new CustosError('ERR_SECRET_MISSING', `${names.secret} is not set`);
  }
  if (refreshSecret === undefined && refreshSecretPrevious !== undefined) {
    throw new CustosError(
      'ERR_SECRET_MISSING',
      `${names.refreshSecretPrevious} is set but ${names.refreshSecret} is not`,
    );
  }
  const given = [
    [names.secret, secret],
    [names.secretPrevious, secretPrevious],
    [names.refreshSecret, refreshSecret],
    [names.refreshSecretPrevious, refreshSecretPrevious],
  ].filter((pair): pair is [string, string] => pair[1] !== undefined);
  for (const [name, value] of given) checkJwtSecret(name, value);
  for (const [i, [name, value]] of given.entries()) {
    const twin = given.slice(0, i).find(([, other]) => other === value);
    if (twin !== undefined) {
      throw new CustosError('ERR_WEAK_SECRET', `${name} must differ from ${twin[0]}`);
    }
  }
  const access = await keysetOf(secret, secretPrevious);
  const refresh =
    refreshSecret === undefined ? access : await keysetOf(refreshSecret, refreshSecretPrevious);
  return { access, refresh };
}

async function keysetOf(current: string, previous: string | undefined): Promise<JwtKeyset> {
  const createdAt = new Date().toISOString();
  const entry = async (value: string, status: 'current' | 'previous'): Promise<KeyEntry> => {
    const bytes = Buffer.from(value, 'utf8');
    return {
      info: {
        kid: hmacSha256(bytes, KID_LABEL).subarray(0, 12).toString('base64url'),
        algorithm: 'HS256',
        status,
        createdAt,
      },
      material: await hmacKeyMaterial(bytes),
    };
  };
  const entries = [await entry(current, 'current')];
  // Deliberately no verifyUntil: this keyset is rebuilt from the variables at every start, so
  // a deadline computed here would restart with each process; removing *_PREVIOUS ends the
  // window instead. Keysets loaded from files must carry one (loadJwtKeyset refuses otherwise).
  if (previous !== undefined) entries.push(await entry(previous, 'previous'));
  return new JwtKeyset(entries);
}

function reader(source: SecretSource): (name: string) => Promise<string | undefined> {
  return async (name) => {
    const raw = typeof source === 'function' ? await source(name) : source[name];
    const value = isSecret(raw) ? raw.reveal() : raw;
    if (value !== undefined && typeof value !== 'string') {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${name} must be a string`);
    }
    return value === '' ? undefined : value;
  };
}
