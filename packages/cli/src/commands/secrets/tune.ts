import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { requestSupported } from '../../vault/request.js';
import { mountConfig, mountPath } from './mount-path.js';

interface Options extends ServerFlags {
  description?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
}

export async function run(mount: string, options: Options): Promise<number> {
  const { path, route } = mountPath(mount);
  await requestSupported(
    serverClient(options),
    'POST',
    `sys/mounts/${route}/tune`,
    {
      ...(options.description === undefined ? {} : { description: options.description }),
      ...mountConfig(options),
    },
    'tuning mounts',
  );
  print(`Success! Tuned the secrets engine at: ${path}/`);
  return ExitCode.ok;
}
