import { stat } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';
import type { FieldKms } from '@custos/core/fields';
import { openKmsFromEnvironment } from '@custos/core/kms';

/**
 * Data keys wrapped by key `keyName` of the local KMS file `file` (the in-process transit engine
 * an application opens with `LocalKms.open`). The file holds key material, so it is refused
 * unless mode 0600, and it must exist (a mistyped path must not start an empty KMS).
 *
 * The command only reads the file: the application is its one writer. A key due for rotation (by
 * age or encryption count) rotates in memory on its next use; a data key wrapped by a version the
 * file does not hold would be lost when the command exits, so it is refused before any value is
 * written with it.
 */
export async function openLocalKmsDataKeys(file: string, keyName: string): Promise<FieldKms> {
  // LocalKms.open refuses a file others may read; a missing one would start an empty KMS.
  await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      err.code === 'ENOENT'
        ? `KMS file ${file} does not exist`
        : `cannot read ${file}: ${err.code}`,
    );
  });
  // The environment's opener reads the file once, as an application does (ERR_KEY_NOT_FOUND
  // for a missing key), and refuses unsaved versions.
  const opened = await openKmsFromEnvironment(
    { KMS_PROVIDER: 'local', LOCAL_KMS_FILE: file, KMS_KEY_NAME: keyName },
    { registerRotation: false },
  );
  return opened.kms;
}
