import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { kvPath } from './pairs.js';

interface Options extends ServerFlags {
  mount: string;
  format: string;
}

export async function run(path: string, options: Options): Promise<number> {
  const { body } = await serverClient(options).request(
    'GET',
    kvPath(options.mount, 'metadata', path),
  );
  const meta = (body as { data: Record<string, unknown> }).data;
  if (options.format === 'json') {
    print(JSON.stringify(body, null, 2));
    return ExitCode.ok;
  }
  for (const [key, value] of Object.entries(meta)) {
    if (key !== 'versions')
      print(
        `${key.padEnd(22)}${typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
      );
  }
  for (const [version, v] of Object.entries(
    meta.versions as Record<string, Record<string, unknown>>,
  )) {
    const state = v.destroyed
      ? 'destroyed'
      : v.deletion_time
        ? `deleted ${v.deletion_time}`
        : 'live';
    print(`version ${version.padEnd(6)} created ${v.created_time}  ${state}`);
  }
  return ExitCode.ok;
}
