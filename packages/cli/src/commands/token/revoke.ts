import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

interface Options extends ServerFlags {
  self?: boolean;
  accessor?: boolean;
}

export async function run(token: string | undefined, options: Options): Promise<number> {
  if ((token === undefined) === (options.self !== true)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'give a token (or an accessor with -accessor), or -self to revoke the current token',
    );
  }
  const client = serverClient(options);
  if (token === undefined) await client.request('POST', 'auth/token/revoke-self');
  else if (options.accessor === true)
    await client.request('POST', 'auth/token/revoke-accessor', { body: { accessor: token } });
  else await client.request('POST', 'auth/token/revoke', { body: { token } });
  print('Success! Revoked token (if it existed)');
  return ExitCode.ok;
}
