import { access } from 'node:fs/promises';
import { type AeadAlgorithm, Keyring, writeKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { DEFAULT_BLIND_INDEX_KEY_NAME } from '@custos/core/fields';
import { warnIfCommittable } from '../../committable.js';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  out: string;
  name: string;
  algorithm: AeadAlgorithm;
  force: boolean;
  blindIndex: boolean;
}

export async function run(options: Options): Promise<number> {
  if (!options.force && (await exists(options.out))) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${options.out} exists; pass --force to replace it`,
    );
  }
  const keyring = new Keyring();
  const info = keyring.createKey(options.name, { algorithm: options.algorithm });
  const blindIndex =
    options.blindIndex && options.name !== DEFAULT_BLIND_INDEX_KEY_NAME
      ? keyring.createKey(DEFAULT_BLIND_INDEX_KEY_NAME)
      : undefined;
  await writeKeyringFile(options.out, keyring);
  await warnIfCommittable(options.out);
  print(
    `created ${options.out} (mode 0600): key "${info.name}" id ${info.id} ${info.algorithm} v1${blindIndex === undefined ? '' : `, key "${blindIndex.name}" id ${blindIndex.id} v1 (blind indexes only)`}`,
  );
  return ExitCode.ok;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
