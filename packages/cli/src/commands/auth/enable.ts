import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { requestSupported } from '../../vault/request.js';

interface Options extends ServerFlags {
  path?: string;
  description?: string;
}

export async function run(type: string, options: Options): Promise<number> {
  const path = (options.path ?? type).replace(/^\/+|\/+$/g, '');
  await requestSupported(
    serverClient(options),
    'POST',
    `sys/auth/${path.split('/').map(encodeURIComponent).join('/')}`,
    { type, ...(options.description === undefined ? {} : { description: options.description }) },
    'enabling auth methods',
  );
  print(`Success! Enabled ${type} auth method at: ${path}/`);
  return ExitCode.ok;
}
