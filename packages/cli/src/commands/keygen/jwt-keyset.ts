import { access } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';
import {
  type JwtAlgorithm,
  JwtKeyset,
  serializeJwtKeyset,
  writeJwtKeysetFile,
} from '@custos/core/tokens';
import { warnIfCommittable } from '../../committable.js';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  jwt: JwtAlgorithm;
  out?: string;
  force: boolean;
}

/** `custos keygen --jwt <alg> [--out file]`: a keyset holding one new current key. */
export async function run(options: Options): Promise<number> {
  const keyset = await JwtKeyset.generate(options.jwt);
  if (options.out === undefined) {
    // The keyset is this command's output, as a secret is for plain keygen.
    process.stdout.write(serializeJwtKeyset(keyset));
    return ExitCode.ok;
  }
  if (!options.force && (await exists(options.out))) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${options.out} exists; pass --force to replace it`,
    );
  }
  await writeJwtKeysetFile(options.out, keyset);
  await warnIfCommittable(options.out);
  print(
    `created ${options.out} (mode 0600): ${keyset.current.algorithm} key ${keyset.current.kid} (current)`,
  );
  return ExitCode.ok;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
