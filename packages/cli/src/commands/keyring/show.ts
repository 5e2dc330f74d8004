import { readKeyringFile } from '@custos/core/crypto';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  file: string;
  json: boolean;
}

export async function run(options: Options): Promise<number> {
  const keyring = await readKeyringFile(options.file);
  const { keys } = keyring.toJSON();
  if (options.json) {
    print(JSON.stringify(keys, null, 2));
    return ExitCode.ok;
  }
  for (const key of keys) {
    const due = key.rotationDue ? '  (rotation due)' : '';
    print(`${key.name}  id ${key.id}  ${key.algorithm}  primary v${key.primaryVersion}${due}`);
    print(`  min decryption version ${key.minDecryptionVersion}`);
    for (const v of key.versions) {
      print(`  v${v.version}  ${v.state.padEnd(12)}  ${v.createdAt}  ${v.encryptions} encryptions`);
    }
  }
  return ExitCode.ok;
}
