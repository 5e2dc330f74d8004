import { readJwtKeysetFile } from '@custos/core/tokens';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

export async function run(options: { file: string }): Promise<number> {
  const keyset = await readJwtKeysetFile(options.file);
  print(JSON.stringify(keyset.toJwks(), null, 2));
  return ExitCode.ok;
}
