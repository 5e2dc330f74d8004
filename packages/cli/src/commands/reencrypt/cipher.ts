import { readKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { type AnyFieldCipher, createFieldCipher } from '@custos/core/fields';
import { createTransitClient, transitDataKeys } from '@custos/core/kms';
import { type ServerFlags, serverConnection } from '../../server-client.js';
import { openLocalKmsDataKeys } from './local-kms-file.js';

/** Where the keys come from: a keyring file, a transit key (on a server or in a KMS file), or both. */
export interface CipherFlags extends ServerFlags {
  keyring?: string;
  transitKey?: string;
  transitMount: string;
  kmsFile?: string;
  keyName: string;
  deterministicKeyName: string;
  blindIndexKeyName: string;
}

/**
 * The field cipher the flags describe, as the application built it:
 * - `--keyring` alone: keyring mode;
 * - `--transit-key` (KMS mode): data keys wrapped by that key on the server at `CUSTOS_ADDR`
 *   (token `CUSTOS_TOKEN`; `VAULT_ADDR` / `VAULT_TOKEN` also read), or in the local KMS file
 *   `--kms-file`; `--keyring` alongside supplies deterministic columns and values written in
 *   keyring mode.
 *
 * Undefined when no keys are given (`encryption status` then reads headers only).
 */
export async function loadCipher(flags: CipherFlags): Promise<AnyFieldCipher | undefined> {
  if (flags.kmsFile !== undefined && flags.transitKey === undefined) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      '--kms-file needs --transit-key: the name of the key in the file that wraps the data keys',
    );
  }
  const keyring = flags.keyring === undefined ? undefined : await readKeyringFile(flags.keyring);
  if (flags.transitKey === undefined) {
    return keyring === undefined
      ? undefined
      : createFieldCipher({
          keyring,
          keyName: flags.keyName,
          deterministicKeyName: flags.deterministicKeyName,
          blindIndexKeyName: flags.blindIndexKeyName,
        });
  }
  const kms =
    flags.kmsFile === undefined
      ? transitDataKeys(
          createTransitClient({ mount: flags.transitMount, ...serverConnection(flags) }),
          flags.transitKey,
        )
      : await openLocalKmsDataKeys(flags.kmsFile, flags.transitKey);
  return createFieldCipher({
    kms,
    ...(keyring === undefined ? {} : { keyring }),
    deterministicKeyName: flags.deterministicKeyName,
    blindIndexKeyName: flags.blindIndexKeyName,
  });
}
