import { readKeyringFile, writeKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  file: string;
  name?: string;
}

export async function run(options: Options): Promise<number> {
  const keyring = await readKeyringFile(options.file);
  const names = keyring.keyNames();
  const name = options.name ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${options.file} holds ${names.length} keys (${names.join(', ')}); choose one with --name`,
    );
  }
  const version = keyring.rotate(name);
  await writeKeyringFile(options.file, keyring);
  print(`rotated "${name}": v${version} is now primary; older versions still decrypt`);
  return ExitCode.ok;
}
