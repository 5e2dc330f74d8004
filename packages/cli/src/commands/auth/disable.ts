import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { requestSupported } from '../../vault/request.js';

export async function run(mount: string, options: ServerFlags): Promise<number> {
  const path = mount.replace(/^\/+|\/+$/g, '');
  await requestSupported(
    serverClient(options),
    'DELETE',
    `sys/auth/${path.split('/').map(encodeURIComponent).join('/')}`,
    undefined,
    'disabling auth methods',
  );
  print(`Success! Disabled the auth method (if it existed) at: ${path}/`);
  return ExitCode.ok;
}
