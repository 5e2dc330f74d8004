import { createServerClient } from '@custos/core/client';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient, serverConnection } from '../../server-client.js';
import { apiPath } from '../../vault/data-args.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';

type Options = ServerFlags & OutputFlags;

/**
 * The capabilities of the current token, or of a given one: asked with that token itself
 * (`sys/capabilities-self`, which every token's `default` policy allows).
 */
export async function run(
  tokenOrPath: string,
  path: string | undefined,
  options: Options,
): Promise<number> {
  const format = outputFormat(options);
  const target = apiPath(path ?? tokenOrPath);
  const client =
    path === undefined
      ? serverClient(options)
      : createServerClient({ ...serverConnection(options), auth: { token: tokenOrPath } });
  const { body } = await client.request('POST', 'sys/capabilities-self', {
    body: { paths: [target] },
  });
  const data = (body as { data?: Record<string, unknown> } | null)?.data ?? {};
  const found = Object.hasOwn(data, target) ? data[target] : data.capabilities;
  const capabilities = Array.isArray(found) ? found.map(String) : ['deny'];
  print(format === 'json' ? JSON.stringify(capabilities) : capabilities.join(', '));
  return ExitCode.ok;
}
