import { isCustosError } from '@custos/core/errors';
import { verifyBackup } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { print, reportError } from '../../output.js';
import { inputOf } from './io.js';
import { type IdentityFlags, identitiesOf } from './keys.js';

/** What a damaged backup fails with: a failed check (exit 1), not a usage error. */
const DAMAGE = ['ERR_DECRYPTION_FAILED', 'ERR_BACKUP_TRUNCATED', 'ERR_MALFORMED_CIPHERTEXT'];

export async function run(input: string | undefined, options: IdentityFlags): Promise<number> {
  const identities = await identitiesOf(options);
  try {
    const { plaintextBytes, chunks } = await verifyBackup(inputOf(input), { identities });
    print(`authentic: ${plaintextBytes} bytes in ${chunks} chunk${chunks === 1 ? '' : 's'}`);
    return ExitCode.ok;
  } catch (err) {
    if (!isCustosError(err) || !DAMAGE.includes(err.code)) throw err;
    reportError(err);
    return ExitCode.finding;
  }
}
