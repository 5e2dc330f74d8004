import { generateSecret, type SecretEncoding } from '@custos/core/crypto';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

interface Options {
  format: SecretEncoding;
  bytes: number;
}

export async function run(options: Options): Promise<number> {
  const { secret, entropyBits } = generateSecret({
    encoding: options.format,
    bytes: options.bytes,
  });
  // The secret is this command's output: printing it on stdout is the point.
  print(secret.reveal());
  if (process.stderr.isTTY) warn(`(${entropyBits} bits of entropy, ${options.format})`);
  return ExitCode.ok;
}
