import { decryptFile, decryptIterable } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { inputOf, toStdout } from './io.js';
import { type IdentityFlags, identitiesOf } from './keys.js';

interface Options extends IdentityFlags {
  out?: string;
}

export async function run(input: string | undefined, options: Options): Promise<number> {
  const identities = await identitiesOf(options);
  if (options.out !== undefined) {
    await decryptFile(inputOf(input), options.out, { identities });
  } else {
    // Each chunk is authenticated before it is written; a cut stream fails only at its end.
    await toStdout(decryptIterable(inputOf(input), { identities }), 'plaintext');
  }
  return ExitCode.ok;
}
