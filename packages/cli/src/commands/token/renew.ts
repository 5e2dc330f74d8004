import { ExitCode } from '../../exit-codes.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { printResponse, type VaultResponse } from '../../vault/response.js';

interface Options extends ServerFlags, OutputFlags {
  increment?: string;
  accessor?: boolean;
}

export async function run(token: string | undefined, options: Options): Promise<number> {
  const increment = options.increment === undefined ? {} : { increment: options.increment };
  const [path, body] =
    token === undefined
      ? ['auth/token/renew-self', increment]
      : options.accessor === true
        ? ['auth/token/renew-accessor', { accessor: token, ...increment }]
        : ['auth/token/renew', { token, ...increment }];
  const { body: response } = await serverClient(options).request('POST', path, { body });
  printResponse(response as VaultResponse, options, path);
  return ExitCode.ok;
}
