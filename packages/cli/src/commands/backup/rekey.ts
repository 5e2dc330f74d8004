import { rekeyFile } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type IdentityFlags, identitiesOf, recipientsOf } from './keys.js';

interface Options extends IdentityFlags {
  out?: string;
  toRecipient?: string[];
  toKeyFile?: string[];
  toPassphraseFile?: string;
  toTransitKey?: string;
  toKmsEnv?: boolean;
}

export async function run(input: string, options: Options): Promise<number> {
  const identities = await identitiesOf(options);
  const recipients = await recipientsOf({
    ...options,
    recipient: options.toRecipient,
    keyFile: options.toKeyFile,
    passphraseFile: options.toPassphraseFile,
    transitKey: options.toTransitKey,
    kmsEnv: options.toKmsEnv,
  });
  const out = options.out ?? input;
  await rekeyFile(input, out, { identities, recipients });
  print(`rekeyed ${out} for ${recipients.length} recipient${recipients.length === 1 ? '' : 's'}`);
  return ExitCode.ok;
}
