import { CustosError } from '@custos/core/errors';

/**
 * Variables custos reads its own credentials from, to load the configuration, and those that
 * point at them: the server token (`CUSTOS_TOKEN`, `VAULT_TOKEN`), the AppRole secret id of
 * `SECRETS_BACKEND=custos|vault` (`CUSTOS_SECRET_ID`, `VAULT_SECRET_ID`), the dotenv keys
 * (`CUSTOS_ENV_KEY`, `CUSTOS_ENV_KEY_<MODE>`), the key file (`CUSTOS_ENV_KEYS_FILE`) and the
 * `_FILE` form of each (`CUSTOS_TOKEN_FILE`, which `NAME_FILE` indirection would read). The
 * command `custos run` starts needs the configuration, not the keys to it. Names are compared
 * case-insensitively (Windows environments are).
 */
const CREDENTIAL =
  /^(?:(?:CUSTOS_TOKEN|VAULT_TOKEN|CUSTOS_SECRET_ID|VAULT_SECRET_ID)(?:_FILE)?|CUSTOS_ENV_KEYS_FILE|CUSTOS_ENV_KEY(?:_[A-Z0-9_]*)?)$/i;

/** The credentials as said in messages and help. */
const CREDENTIAL_NAMES =
  'CUSTOS_TOKEN, VAULT_TOKEN, CUSTOS_SECRET_ID, VAULT_SECRET_ID, CUSTOS_ENV_KEY, CUSTOS_ENV_KEY_<MODE>, CUSTOS_ENV_KEYS_FILE, and their _FILE forms';

/** Whether `name` is one of the credentials `custos run` removes from the command's environment. */
export function isLaunchCredential(name: string): boolean {
  return CREDENTIAL.test(name);
}

/** Checks each `--pass-credential` name is such a credential: a typo fails, not passes nothing. */
export function checkPassedCredentials(keep: readonly string[]): void {
  for (const name of keep) {
    if (!isLaunchCredential(name)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `--pass-credential ${name}: not a credential custos removes (${CREDENTIAL_NAMES}); other variables are passed on anyway`,
      );
    }
  }
}

/** Removes from `env` (in place) every launch credential except those named in `keep`. */
export function stripLaunchCredentials(env: NodeJS.ProcessEnv, keep: readonly string[]): void {
  const kept = new Set(keep.map((name) => name.toUpperCase()));
  for (const name of Object.keys(env)) {
    if (isLaunchCredential(name) && !kept.has(name.toUpperCase())) delete env[name];
  }
}
