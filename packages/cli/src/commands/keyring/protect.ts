import { loadKeyring } from '@custos/core/crypto';
import { ExitCode } from '../../exit-codes.js';
import { type KeyFileKind, protectFile } from '../../key-file-protection.js';
import type { RecipientFlags } from '../backup/keys.js';

export const kind: KeyFileKind = {
  what: 'keyring file',
  async check(text: string) {
    loadKeyring(text);
  },
};

export async function run(
  options: RecipientFlags & { file: string; out?: string },
): Promise<number> {
  await protectFile(kind, options.file, options);
  return ExitCode.ok;
}
