import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { requestSupported } from '../../vault/request.js';
import { mountPath } from './mount-path.js';

export async function run(mount: string, options: ServerFlags): Promise<number> {
  const { path, route } = mountPath(mount);
  await requestSupported(
    serverClient(options),
    'DELETE',
    `sys/mounts/${route}`,
    undefined,
    'disabling secrets engines',
  );
  print(`Success! Disabled the secrets engine (if it existed) at: ${path}/`);
  return ExitCode.ok;
}
