import { type EnvironmentKms, openKmsFromEnvironment } from '@custos/core/kms';
import { guardUnsavedVersions } from './commands/reencrypt/local-kms-file.js';

/**
 * The KMS `KMS_PROVIDER` and its variables select, as the application's
 * `openKmsFromEnvironment()` opens it, for a command that uses it and exits (`--kms-env` of
 * `custos reencrypt`, `encryption status`, `backup encrypt|rekey`, and the backup commands that
 * decrypt): `KEY_ROTATION_*` are checked but never registered from here. A local KMS file is only
 * read, so a key version that would rotate in this process's memory alone is refused before it
 * wraps anything (it would be lost at exit).
 */
export async function openEnvironmentKms(
  env: NodeJS.ProcessEnv = process.env,
): Promise<EnvironmentKms> {
  const opened = await openKmsFromEnvironment(env, { registerRotation: false });
  const { settings } = opened;
  if (settings.provider !== 'local') return opened;
  const { keyVersion } = await opened.kms.currentKey();
  return {
    ...opened,
    kms: guardUnsavedVersions(opened.kms, {
      keyName: settings.keyName,
      file: settings.file,
      savedVersion: keyVersion,
    }),
  };
}
