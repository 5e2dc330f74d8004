import { type EnvironmentKms, openKmsFromEnvironment } from '@custos/core/kms';

/**
 * The KMS `KMS_PROVIDER` and its variables select, as the application's
 * `openKmsFromEnvironment()` opens it, for a command that uses it and exits (`--kms-env` of
 * `custos reencrypt`, `encryption status`, `backup encrypt|rekey`, and the backup commands that
 * decrypt): `KEY_ROTATION_*` are checked but never registered from here. A local KMS file is only
 * read, so a key version that would rotate in this process's memory alone is refused before it
 * wraps anything (it would be lost at exit; `openKmsFromEnvironment` refuses it).
 */
export function openEnvironmentKms(env: NodeJS.ProcessEnv = process.env): Promise<EnvironmentKms> {
  return openKmsFromEnvironment(env, { registerRotation: false });
}
