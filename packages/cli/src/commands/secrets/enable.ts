import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { requestSupported } from '../../vault/request.js';
import { mountConfig, mountPath } from './mount-path.js';

interface Options extends ServerFlags {
  path?: string;
  description?: string;
  version?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
}

export async function run(engine: string, options: Options): Promise<number> {
  // As Vault: `kv-v2` is `kv` with version 2.
  const type = engine === 'kv-v2' ? 'kv' : engine;
  const version = engine === 'kv-v2' ? '2' : options.version;
  const { path, route } = mountPath(options.path ?? engine);
  await requestSupported(
    serverClient(options),
    'POST',
    `sys/mounts/${route}`,
    {
      type,
      ...(options.description === undefined ? {} : { description: options.description }),
      config: mountConfig(options),
      ...(version === undefined ? {} : { options: { version } }),
    },
    'enabling secrets engines',
  );
  print(`Success! Enabled the ${engine} secrets engine at: ${path}/`);
  return ExitCode.ok;
}
