import { type Keyring, readKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { type AnyFieldCipher, createFieldCipher, type FieldKms } from '@custos/core/fields';
import { createTransitClient, transitDataKeys } from '@custos/core/kms';
import { openEnvironmentKms } from '../../environment-kms.js';
import { type ServerFlags, serverConnection } from '../../server-client.js';
import { openLocalKmsDataKeys } from './local-kms-file.js';

/** Where the keys come from: a keyring file, a transit key (on a server or in a KMS file), or both. */
export interface CipherFlags extends ServerFlags {
  keyring?: string;
  transitKey?: string;
  transitMount: string;
  kmsFile?: string;
  kmsEnv: boolean;
  keyName: string;
  deterministicKeyName: string;
  blindIndexKeyName: string;
}

/** A field cipher, and what releases its KMS (a PKCS#11 session, a cloud client). */
export interface LoadedCipher {
  readonly cipher: AnyFieldCipher;
  close(): Promise<void>;
}

/**
 * The field cipher the flags describe, as the application built it:
 * - `--keyring` alone: keyring mode;
 * - `--transit-key` (KMS mode): data keys wrapped by that key on the server at `CUSTOS_ADDR`
 *   (token `CUSTOS_TOKEN`; `VAULT_ADDR` / `VAULT_TOKEN` also read), or in the local KMS file
 *   `--kms-file`; `--keyring` alongside supplies deterministic columns and values written in
 *   keyring mode;
 * - `--kms-env` (KMS mode): the provider `KMS_PROVIDER` selects, with its variables read from
 *   the environment exactly as the application's `openKmsFromEnvironment()` reads them
 *   (`KEY_ROTATION_*` are checked but never registered from here; a local KMS file is guarded as
 *   `--kms-file` is); `--keyring` as above.
 *
 * Undefined when no keys are given (`encryption status` then reads headers only).
 */
export async function loadCipher(flags: CipherFlags): Promise<LoadedCipher | undefined> {
  if (flags.kmsEnv && (flags.transitKey !== undefined || flags.kmsFile !== undefined)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      '--kms-env takes the KMS from KMS_PROVIDER and its variables: leave out --transit-key and --kms-file',
    );
  }
  if (flags.kmsFile !== undefined && flags.transitKey === undefined) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      '--kms-file needs --transit-key: the name of the key in the file that wraps the data keys',
    );
  }
  const keyring = flags.keyring === undefined ? undefined : await readKeyringFile(flags.keyring);
  const none = async () => {};
  if (flags.kmsEnv) {
    const opened = await openEnvironmentKms();
    return { cipher: kmsCipher(flags, opened.kms, keyring), close: () => opened.close() };
  }
  if (flags.transitKey === undefined) {
    return keyring === undefined
      ? undefined
      : {
          cipher: createFieldCipher({
            keyring,
            keyName: flags.keyName,
            deterministicKeyName: flags.deterministicKeyName,
            blindIndexKeyName: flags.blindIndexKeyName,
          }),
          close: none,
        };
  }
  const kms =
    flags.kmsFile === undefined
      ? transitDataKeys(
          createTransitClient({ mount: flags.transitMount, ...serverConnection(flags) }),
          flags.transitKey,
        )
      : await openLocalKmsDataKeys(flags.kmsFile, flags.transitKey);
  return { cipher: kmsCipher(flags, kms, keyring), close: none };
}

function kmsCipher(flags: CipherFlags, kms: FieldKms, keyring: Keyring | undefined) {
  return createFieldCipher({
    kms,
    ...(keyring === undefined ? {} : { keyring }),
    deterministicKeyName: flags.deterministicKeyName,
    blindIndexKeyName: flags.blindIndexKeyName,
  });
}
