import { decryptEnvFile } from '@custos/core/secrets';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  keysFile?: string;
  stdout: boolean;
}

export async function run(file: string, options: Options): Promise<number> {
  const result = await decryptEnvFile(file, {
    write: !options.stdout,
    ...(options.keysFile === undefined ? {} : { keysFile: options.keysFile }),
  });
  if (options.stdout) {
    // Asked for: the decrypted file is this command's output.
    process.stdout.write(result.text);
  } else {
    print(
      result.decrypted === 0
        ? `no enc: values in ${file}; left unchanged`
        : `decrypted ${result.decrypted} values in ${file}: it now holds plaintext secrets, written with mode 0600 (owner only); keep it out of git`,
    );
  }
  return ExitCode.ok;
}
