import { generateApiKey } from '@custos/core/api-keys';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

/** `custos keygen --api-key <prefix>`: one key of the custos API-key shape, checksum included. */
export async function run(options: { prefix: string }): Promise<number> {
  const { key, keyId } = generateApiKey(options.prefix);
  print(key.reveal());
  if (process.stderr.isTTY) warn(`(key id ${keyId}; store only HMAC-SHA256(pepper, key))`);
  return ExitCode.ok;
}
