import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { kvPath } from './pairs.js';

interface Options extends ServerFlags {
  mount: string;
  versions?: number[];
}

const PAST: Record<'delete' | 'undelete' | 'destroy', string> = {
  delete: 'deleted',
  undelete: 'undeleted',
  destroy: 'destroyed',
};

/** `delete`, `undelete` and `destroy` share one body: the path and the version list. */
export function runFor(action: 'delete' | 'undelete' | 'destroy') {
  return async (path: string, options: Options): Promise<number> => {
    const client = serverClient(options);
    if (action === 'delete' && options.versions === undefined) {
      await client.request('DELETE', kvPath(options.mount, 'data', path));
      print(`${options.mount}/${path}: latest version deleted (undelete restores it)`);
      return ExitCode.ok;
    }
    if (options.versions === undefined || options.versions.length === 0) {
      // A usage error (exit 2): destroying or undeleting "everything" is never the default.
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `kv ${action} needs --versions (comma-separated version numbers, e.g. --versions 1,2)`,
      );
    }
    await client.request('POST', kvPath(options.mount, action, path), {
      body: { versions: options.versions },
    });
    print(`${options.mount}/${path}: versions ${options.versions.join(', ')} ${PAST[action]}`);
    return ExitCode.ok;
  };
}
