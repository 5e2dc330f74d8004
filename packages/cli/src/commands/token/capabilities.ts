import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { apiPath } from '../../vault/data-args.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';

type Options = ServerFlags & OutputFlags & { accessor?: boolean };

/**
 * The capabilities of a token on a path, as `vault token capabilities`: the current token's
 * (`sys/capabilities-self`), another token's (`sys/capabilities`, with the token in the body:
 * asking spends none of its uses) or, with `-accessor`, the token with that accessor's
 * (`sys/capabilities-accessor`). The last two need a grant on those paths.
 */
export async function run(
  tokenOrPath: string,
  path: string | undefined,
  options: Options,
): Promise<number> {
  const format = outputFormat(options);
  const target = apiPath(path ?? tokenOrPath);
  const request =
    path === undefined
      ? { route: 'sys/capabilities-self', body: { paths: [target] } }
      : options.accessor === true
        ? { route: 'sys/capabilities-accessor', body: { accessor: tokenOrPath, paths: [target] } }
        : { route: 'sys/capabilities', body: { token: tokenOrPath, paths: [target] } };
  const { body } = await serverClient(options).request('POST', request.route, {
    body: request.body,
  });
  const data = (body as { data?: Record<string, unknown> } | null)?.data ?? {};
  const found = Object.hasOwn(data, target) ? data[target] : data.capabilities;
  const capabilities = Array.isArray(found) ? found.map(String) : ['deny'];
  print(format === 'json' ? JSON.stringify(capabilities) : capabilities.join(', '));
  return ExitCode.ok;
}
