import { encryptEnvFile } from '@custos/core/secrets';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  keysFile?: string;
  rotate: boolean;
}

export async function run(file: string, options: Options): Promise<number> {
  const result = await encryptEnvFile(file, {
    rotate: options.rotate,
    ...(options.keysFile === undefined ? {} : { keysFile: options.keysFile }),
  });
  const already = result.unchanged > 0 ? ` (${result.unchanged} already encrypted)` : '';
  print(`encrypted ${result.encrypted} values in ${file}${already}`);
  if (result.wroteKey) {
    print(
      `new key written to ${result.keysFile} (mode 0600) as ${result.keyVariable}: keep that file out of git, and give the key to the environment that decrypts (${result.keyVariable}=…)`,
    );
  }
  return ExitCode.ok;
}
