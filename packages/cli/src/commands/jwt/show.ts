import { readJwtKeysetFile } from '@custos/core/tokens';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

export async function run(options: { file: string; json: boolean }): Promise<number> {
  const keyset = await readJwtKeysetFile(options.file);
  if (options.json) {
    print(JSON.stringify(keyset.keys, null, 2));
    return ExitCode.ok;
  }
  for (const key of keyset.keys) {
    // Every previous key in a file has verifyUntil (readJwtKeysetFile refuses one without).
    const until = key.status === 'previous' ? ` verifies until ${key.verifyUntil}` : '';
    print(
      `${key.kid}  ${key.algorithm.padEnd(5)}  ${key.status.padEnd(8)}  created ${key.createdAt}${until}`,
    );
  }
  return ExitCode.ok;
}
