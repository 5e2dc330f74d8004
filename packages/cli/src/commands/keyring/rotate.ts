import { readKeyringFile, writeKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { DEFAULT_BLIND_INDEX_KEY_NAME } from '@custos/core/fields';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

interface Options {
  file: string;
  name?: string;
  all: boolean;
  blindIndex: boolean;
}

/**
 * Rotates the named key, or every key with `--all`, or by default every randomised key. A
 * deterministic key is rotated only when asked for: equal values then give different
 * ciphertexts under the old and new versions, so `where email = $1` on its columns matches only
 * one version (and a unique constraint stops catching duplicates across versions) until
 * `custos reencrypt` has run. Randomised keys can rotate at any time. The blind-index key rotates
 * only with `--blind-index` (or by name): its rotation changes every index, which then needs a
 * backfill (`custos reencrypt --blind-index`), so it is never part of a routine rotation.
 */
export async function run(options: Options): Promise<number> {
  const choices = [options.name !== undefined, options.all, options.blindIndex].filter(Boolean);
  if (choices.length > 1) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'pass either --name, --all or --blind-index, not several',
    );
  }
  const keyring = await readKeyringFile(options.file);
  const keys = keyring
    .keyNames()
    .filter((name) => name !== DEFAULT_BLIND_INDEX_KEY_NAME)
    .map((name) => keyring.info(name));
  const isDeterministic = (name: string) => keyring.info(name).algorithm === 'aes-256-gcm-siv';
  const chosen =
    options.name !== undefined
      ? [options.name]
      : options.blindIndex
        ? [DEFAULT_BLIND_INDEX_KEY_NAME]
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
    if (name === DEFAULT_BLIND_INDEX_KEY_NAME) {
      print(
        `rotated "${name}": v${version} is now primary; lookups must use blindIndexCandidates until custos reencrypt --blind-index has rewritten every table's indexes, then retire the older versions (--retire-old-versions)`,
      );
    } else {
      print(`rotated "${name}": v${version} is now primary; older versions still decrypt`);
    }
  }
  if (
    options.name === undefined &&
    !options.blindIndex &&
    keyring.has(DEFAULT_BLIND_INDEX_KEY_NAME)
  ) {
    warn(
      `kept "${DEFAULT_BLIND_INDEX_KEY_NAME}": blind indexes stay as they are; rotate that key only with --blind-index`,
    );
  }
  if (options.name === undefined && !options.all && !options.blindIndex) {
    for (const key of keys.filter((k) => isDeterministic(k.name))) {
      warn(
        `skipped "${key.name}" (deterministic): until custos reencrypt has run, equality lookups on its columns must use deterministicCandidates; rotate it with --name ${key.name} or --all`,
      );
    }
  }
  return ExitCode.ok;
}
