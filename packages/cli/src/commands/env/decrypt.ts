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
    print(`decrypted ${result.decrypted} values in ${file}`);
  }
  return ExitCode.ok;
}
