import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';

type Options = ServerFlags & OutputFlags;

export async function run(options: Options): Promise<number> {
  const format = outputFormat(options);
  const { body } = await serverClient(options).request('GET', 'sys/policies/acl?list=true');
  const keys = (body as { data: { keys: string[] } }).data.keys;
  if (format === 'json') print(JSON.stringify(keys, null, 2));
  else for (const key of keys) print(key);
  return ExitCode.ok;
}
