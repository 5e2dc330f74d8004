import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';
import { printResponse, type VaultResponse } from '../../vault/response.js';

interface Options extends ServerFlags, OutputFlags {
  policies: string[];
  ttl?: string;
}

const PATH = 'aws/access-key';

/**
 * `custos aws access-key create --policies p1,p2 [--ttl 720h] [--format json]`: with
 * `--format json`, prints `{"access_key_id", "secret_access_key"}` (the secret, once).
 */
export async function run(options: Options): Promise<number> {
  const body = {
    policies: options.policies,
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
  };
  const { body: response } = await serverClient(options).request('POST', PATH, { body });
  const vault = response as VaultResponse;
  if (options.field === undefined && outputFormat(options) === 'json') {
    const data = (vault.data ?? {}) as Record<string, unknown>;
    print(
      JSON.stringify(
        { access_key_id: data.access_key_id, secret_access_key: data.secret_access_key },
        null,
        2,
      ),
    );
    return ExitCode.ok;
  }
  printResponse(vault, options, PATH);
  return ExitCode.ok;
}
