import { text } from 'node:stream/consumers';
import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

interface Options extends ServerFlags {
  reset: boolean;
  migrate: boolean;
}

export async function run(key: string | undefined, options: Options): Promise<number> {
  const client = serverClient(options);
  let body: Record<string, unknown>;
  if (options.reset) {
    body = { reset: true };
  } else {
    // Reading from stdin keeps the share out of the shell history and the process list.
    const share = key ?? (process.stdin.isTTY ? undefined : (await text(process.stdin)).trim());
    if (share === undefined || share === '') {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        'give the unseal key as an argument or on stdin',
      );
    }
    body = options.migrate ? { key: share, migrate: true } : { key: share };
  }
  const { body: status } = await client.request('POST', 'sys/unseal', { body });
  const s = status as { sealed: boolean; t: number; n: number; progress: number };
  print(s.sealed ? `sealed: ${s.progress} of ${s.t} key shares provided` : 'unsealed');
  return ExitCode.ok;
}
