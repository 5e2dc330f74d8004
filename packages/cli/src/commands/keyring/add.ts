import { type AeadAlgorithm, readKeyringFile, writeKeyringFile } from '@custos/core/crypto';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  file: string;
  name: string;
  algorithm: AeadAlgorithm;
}

export async function run(options: Options): Promise<number> {
  const keyring = await readKeyringFile(options.file);
  const info = keyring.createKey(options.name, { algorithm: options.algorithm });
  await writeKeyringFile(options.file, keyring);
  print(`added key "${info.name}" id ${info.id} ${info.algorithm} v1 to ${options.file}`);
  return ExitCode.ok;
}
