import { hmacSha256 } from '../crypto/hmac.js';
import { CustosError } from '../errors/index.js';
import { checkHmacSecret } from '../lib/hmac-secret-strength.js';
import { type SecretSource, type SecretValue, secretReader } from '../lib/secret-source.js';
import { hmacKeyMaterial } from './algorithms.js';
import { JwtKeyset, type KeyEntry } from './keyset.js';
import type { TokenKeys } from './token-service.js';

export type { SecretSource, SecretValue };

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
  /**
   * Told about a variable that looks like a previous or next JWT secret but is not read (such
   * as `OLD_JWT_SECRET` or `JWT_SECRET_2`), so a rotation does not fail unexplained. Only a
   * plain record can be searched this way. Default: `process.emitWarning`. Never given a value.
   */
  readonly onWarning?: (message: string) => void;
}

/**
 * Other spellings of the previous and next secrets, read when the names are the defaults:
 * `_OLD`/`_PREV` as `_PREVIOUS`, and a next secret (`_NEXT`/`_NEW`, the seeds' rotation step
 * "add the new secret, accept both") that verifies but does not sign until it is promoted.
 */
const PREVIOUS_SUFFIXES = ['_PREVIOUS', '_OLD', '_PREV'] as const;
const NEXT_SUFFIXES = ['_NEXT', '_NEW'] as const;

const KID_LABEL = 'custos/jwt-kid/v1';

/**
 * Compatibility mode for deployments configured with shared HS256 secrets:
 * `JWT_SECRET` signs access tokens and `JWT_SECRET_PREVIOUS` (or `_OLD`, `_PREV`) still verifies
 * them, as does a next secret `JWT_SECRET_NEXT` (or `_NEW`) before it is promoted;
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
  const read = secretReader(options.secrets);
  const spellings = options.names === undefined;
  const [access, refresh] = await Promise.all([
    readVariant(
      read,
      'JWT_SECRET',
      options.names?.secret,
      options.names?.secretPrevious,
      spellings,
    ),
    readVariant(
      read,
      'JWT_REFRESH_SECRET',
      options.names?.refreshSecret,
      options.names?.refreshSecretPrevious,
      spellings,
    ),
  ]);
  if (access.value === undefined) {
    throw new CustosError('ERR_SECRET_MISSING', `${access.name} is not set`);
  }
  const orphan = [refresh.previous, refresh.next].find((v) => v.value !== undefined);
  if (refresh.value === undefined && orphan !== undefined) {
    throw new CustosError('ERR_SECRET_MISSING', `${orphan.name} is set but ${refresh.name} is not`);
  }
  const given = [access, access.previous, access.next, refresh, refresh.previous, refresh.next]
    .filter((v): v is { name: string; value: string } => v.value !== undefined)
    .map((v) => [v.name, v.value] as const);
  for (const [name, value] of given) checkHmacSecret(name, value);
  for (const [i, [name, value]] of given.entries()) {
    const twin = given.slice(0, i).find(([, other]) => other === value);
    if (twin !== undefined) {
      throw new CustosError('ERR_WEAK_SECRET', `${name} must differ from ${twin[0]}`);
    }
  }
  if (spellings && typeof options.secrets !== 'function') {
    warnUnread(options.secrets, new Set(given.map(([name]) => name)), options.onWarning);
  }
  const accessKeys = await keysetOf(access.value, [access.previous.value, access.next.value]);
  return {
    access: accessKeys,
    refresh:
      refresh.value === undefined
        ? accessKeys
        : await keysetOf(refresh.value, [refresh.previous.value, refresh.next.value]),
  };
}

const LOOKS_LIKE_JWT_SECRET = /JWT.*SECRET|SECRET.*JWT/i;

/** Names a set variable that looks like a JWT secret but that nothing reads (never its value). */
function warnUnread(
  secrets: Readonly<Record<string, string | undefined>>,
  read: ReadonlySet<string>,
  onWarning = (message: string) =>
    process.emitWarning(message, { code: 'CUSTOS_UNUSED_JWT_SECRET' }),
): void {
  for (const [name, value] of Object.entries(secrets)) {
    if (read.has(name) || !value || !LOOKS_LIKE_JWT_SECRET.test(name)) continue;
    onWarning(
      `${name} looks like a previous or next JWT secret but is not read: name it JWT_SECRET_PREVIOUS (verifies only) or JWT_SECRET_NEXT (verifies before it signs)`,
    );
  }
}

interface Variable {
  readonly name: string;
  readonly value: string | undefined;
}

/**
 * Reads a secret and its previous and next forms: the given names, or the default name with
 * each accepted suffix. Two spellings of one role both set are refused (which one is meant?).
 */
async function readVariant(
  read: (name: string) => Promise<string | undefined>,
  base: string,
  secretName: string | undefined,
  previousName: string | undefined,
  spellings: boolean,
): Promise<Variable & { previous: Variable; next: Variable }> {
  const name = secretName ?? base;
  const one = async (suffixes: readonly string[], given: string | undefined): Promise<Variable> => {
    const candidates = given !== undefined ? [given] : suffixes.map((suffix) => name + suffix);
    const values = await Promise.all(candidates.map(read));
    const set = candidates.filter((_, i) => values[i] !== undefined);
    if (set.length > 1) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `set one of ${set.join(' and ')}, not both`);
    }
    const i = set.length === 0 ? 0 : candidates.indexOf(set[0] as string);
    return { name: candidates[i] as string, value: values[i] };
  };
  const [value, previous, next] = await Promise.all([
    read(name),
    one(spellings ? PREVIOUS_SUFFIXES : ['_PREVIOUS'], previousName),
    spellings
      ? one(NEXT_SUFFIXES, undefined)
      : Promise.resolve({ name: `${name}_NEXT`, value: undefined }),
  ]);
  return { name, value, previous, next };
}

async function keysetOf(
  current: string,
  verifyOnly: readonly (string | undefined)[],
): Promise<JwtKeyset> {
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
  // A next secret is verify-only too until it is promoted to the signing name.
  for (const value of verifyOnly) {
    if (value !== undefined) entries.push(await entry(value, 'previous'));
  }
  return new JwtKeyset(entries);
}
