import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

interface Options extends ServerFlags {
  format: string;
}

export async function run(options: Options): Promise<number> {
  const client = serverClient(options);
  const { body } = await client.request('GET', 'sys/seal-status');
  const s = body as {
    initialized: boolean;
    sealed: boolean;
    t: number;
    n: number;
    progress: number;
    version: string;
    storage_type: string;
  };
  if (options.format === 'json') {
    print(JSON.stringify(body, null, 2));
  } else {
    print(`Address:      ${client.address}`);
    print(`Initialized:  ${s.initialized}`);
    print(`Sealed:       ${s.sealed}`);
    print(`Threshold:    ${s.t} of ${s.n}`);
    print(`Progress:     ${s.progress}`);
    print(`Storage:      ${s.storage_type}`);
    print(`Version:      ${s.version}`);
  }
  return s.initialized && !s.sealed ? ExitCode.ok : ExitCode.finding;
}
