import { readKeyringFile, writeKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

interface Options {
  file: string;
  name?: string;
  all: boolean;
}

/**
 * Rotates the named key, or every key with `--all`, or by default every randomised key. A
 * deterministic key is rotated only when asked for: equal values then give different
 * ciphertexts under the old and new versions, so `where email = $1` on its columns matches only
 * one version (and a unique constraint stops catching duplicates across versions) until
 * `custos reencrypt` has run. Randomised keys can rotate at any time.
 */
export async function run(options: Options): Promise<number> {
  if (options.name !== undefined && options.all) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'pass either --name or --all, not both');
  }
  const keyring = await readKeyringFile(options.file);
  const keys = keyring.keyNames().map((name) => keyring.info(name));
  const isDeterministic = (name: string) => keyring.info(name).algorithm === 'aes-256-gcm-siv';
  const chosen =
    options.name !== undefined
      ? [options.name]
      : keys.filter((k) => options.all || !isDeterministic(k.name)).map((k) => k.name);
  if (chosen.length === 0) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${options.file} holds only deterministic keys (${keys.map((k) => k.name).join(', ')}); rotating one changes what equality lookups match until custos reencrypt has run: choose it with --name, or pass --all`,
    );
  }
  const rotated = chosen.map((name) => ({ name, version: keyring.rotate(name) }));
  await writeKeyringFile(options.file, keyring);
  for (const { name, version } of rotated) {
    print(`rotated "${name}": v${version} is now primary; older versions still decrypt`);
  }
  if (options.name === undefined && !options.all) {
    for (const key of keys.filter((k) => isDeterministic(k.name))) {
      warn(
        `skipped "${key.name}" (deterministic): until custos reencrypt has run, equality lookups on its columns must use deterministicCandidates; rotate it with --name ${key.name} or --all`,
      );
    }
  }
  return ExitCode.ok;
}
