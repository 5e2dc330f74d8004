import { encryptFile, encryptIterable } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { inputOf, toStdout } from './io.js';
import { type RecipientFlags, recipientsOf } from './keys.js';

interface Options extends RecipientFlags {
  out?: string;
}

export async function run(input: string | undefined, options: Options): Promise<number> {
  const recipients = await recipientsOf(options);
  if (options.out !== undefined) {
    await encryptFile(inputOf(input), options.out, { recipients });
  } else {
    await toStdout(encryptIterable(inputOf(input), { recipients }), 'a backup');
  }
  return ExitCode.ok;
}
