import { generateSecret, type SecretEncoding } from '@custos/core/crypto';
import type { JwtAlgorithm } from '@custos/core/tokens';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

interface Options {
  format: SecretEncoding;
  bytes: number;
  jwt?: JwtAlgorithm;
  apiKey?: string;
  out?: string;
  force: boolean;
}

export async function run(options: Options): Promise<number> {
  if (options.jwt !== undefined) {
    return (await import('./jwt-keyset.js')).run({ ...options, jwt: options.jwt });
  }
  if (options.apiKey !== undefined) {
    return (await import('./api-key.js')).run({ prefix: options.apiKey });
  }
  const { secret, entropyBits } = generateSecret({
    encoding: options.format,
    bytes: options.bytes,
  });
  // The secret is this command's output: printing it on stdout is the point.
  print(secret.reveal());
  if (process.stderr.isTTY) warn(`(${entropyBits} bits of entropy, ${options.format})`);
  return ExitCode.ok;
}
