import { CustosError } from '../errors/index.js';
import type { FieldKms } from '../fields/field-kms.js';

/**
 * Refuses data keys wrapped by a key version newer than the KMS file holds. A LocalKms key due
 * for rotation (by age or encryption count) rotates in memory on its next use; when nothing
 * saves the file afterwards (the environment's KMS, a command that only reads the file), a data
 * key wrapped by that version would be lost when the process exits, with everything under it.
 *
 * @example
 * ```ts
 * const kms = guardUnsavedVersions(localKmsDataKeys(local, 'phi'), {
 *   keyName: 'phi', file: 'kms.json', savedVersion: local.readKey('phi').latest_version,
 * });
 * ```
 */
export function guardUnsavedVersions(
  inner: FieldKms,
  where: { keyName: string; file: string; savedVersion: number },
): FieldKms {
  return {
    unwrapDataKey: (wrapped, context) => inner.unwrapDataKey(wrapped, context),
    describeWrappedKey: (wrapped) => inner.describeWrappedKey(wrapped),
    currentKey: () => inner.currentKey(),
    async generateDataKey(context) {
      const key = await inner.generateDataKey(context);
      if (inner.describeWrappedKey(key.wrapped).keyVersion > where.savedVersion) {
        key.plaintext.fill(0);
        throw new CustosError(
          'ERR_KEY_EXHAUSTED',
          `key "${where.keyName}" of ${where.file} is due for rotation (age or encryption count) and would rotate only in this process; rotate it where the file is written (the application, LocalKms#rotate and save), then run again`,
        );
      }
      return key;
    },
  };
}
