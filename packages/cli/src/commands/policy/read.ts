import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';

type Options = ServerFlags & OutputFlags;

export async function run(name: string, options: Options): Promise<number> {
  const format = outputFormat(options);
  const { status, body } = await serverClient(options).request(
    'GET',
    `sys/policies/acl/${encodeURIComponent(name)}`,
    { allowStatus: [404] },
  );
  const data = (body as { data?: { name: string; policy: string } } | null)?.data;
  if (status === 404 || data === undefined) {
    warn(`No policy named: ${name}`);
    return ExitCode.error;
  }
  print(
    format === 'json'
      ? JSON.stringify({ name: data.name, policy: data.policy }, null, 2)
      : data.policy,
  );
  return ExitCode.ok;
}
