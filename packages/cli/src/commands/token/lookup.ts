import { ExitCode } from '../../exit-codes.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { printResponse, type VaultResponse } from '../../vault/response.js';

interface Options extends ServerFlags, OutputFlags {
  accessor?: boolean;
}

export async function run(token: string | undefined, options: Options): Promise<number> {
  const client = serverClient(options);
  const { body } =
    token === undefined
      ? await client.request('GET', 'auth/token/lookup-self')
      : options.accessor === true
        ? await client.request('POST', 'auth/token/lookup-accessor', { body: { accessor: token } })
        : await client.request('POST', 'auth/token/lookup', { body: { token } });
  printResponse(body as VaultResponse, options, 'auth/token/lookup');
  return ExitCode.ok;
}
