import { readFile, writeFile } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';
import { combineShares, type ShareInput } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { toStdout } from '../backup/io.js';
import { readStdin } from './secret-input.js';

interface Options {
  out?: string;
}

/** A line of a QR code printed as text (block characters and spaces only), or blank. */
const NOT_A_SHARE = /^[\s█▀▄]*$/;

/** The share lines of a text: every line but blanks, `#` comments and QR code blocks. */
function shareLines(text: string, source: string, numbered: boolean): ShareInput[] {
  const found: ShareInput[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (NOT_A_SHARE.test(line) || line.startsWith('#')) continue;
    found.push({ text: line, source: numbered ? `line ${i + 1} of ${source}` : source });
  }
  return found;
}

export async function run(files: string[], options: Options): Promise<number> {
  const inputs: ShareInput[] = [];
  if (files.length === 0) {
    inputs.push(...shareLines((await readStdin()).toString('utf8'), 'standard input', true));
  } else {
    for (const file of files) {
      const lines = shareLines(await readFile(file, 'utf8'), `share file ${file}`, false);
      if (lines.length !== 1) {
        throw new CustosError(
          'ERR_SHARE_MALFORMED',
          `share file ${file} holds ${lines.length === 0 ? 'no share' : `${lines.length} lines that may be shares`}: one share per file`,
        );
      }
      inputs.push(...lines);
    }
  }
  const secret = await combineShares(inputs);
  try {
    if (options.out !== undefined) {
      await writeFile(options.out, secret, { mode: 0o600, flag: 'wx' });
    } else {
      await toStdout(
        (async function* () {
          yield secret;
        })(),
        'the secret',
      );
    }
  } finally {
    secret.fill(0);
  }
  return ExitCode.ok;
}
