import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CustosError } from '@custos/core/errors';
import { backupKey, combineShares, decryptIterable } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { parseEscrow } from './escrow-bundle.js';
import { type IdentityFlags, identitiesOf } from './keys.js';

interface Options extends IdentityFlags {
  outDir?: string;
  share?: string[];
  list: boolean;
}

/** An escrow bundle is small; anything larger is not one. */
const MAX_ESCROW_BYTES = 64 << 20;

export async function run(input: string, options: Options): Promise<number> {
  const identities = await identitiesOf(options);
  if ((options.share?.length ?? 0) > 0) {
    const inputs = [];
    for (const file of options.share ?? []) {
      inputs.push({ text: await readFile(file, 'utf8'), source: `share file ${file}` });
    }
    const keyText = await combineShares(inputs);
    try {
      identities.unshift(backupKey(Buffer.from(keyText.toString('utf8'), 'hex')));
    } finally {
      keyText.fill(0);
    }
  }
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of decryptIterable(input, { identities })) {
    size += piece.length;
    if (size > MAX_ESCROW_BYTES) {
      throw new CustosError(
        'ERR_MALFORMED_CIPHERTEXT',
        'the backup is too large for an escrow bundle',
      );
    }
    pieces.push(piece);
  }
  const bundle = parseEscrow(Buffer.concat(pieces).toString('utf8'));
  if (options.list || options.outDir === undefined) {
    print(`escrow of ${bundle.createdAt}:`);
    for (const entry of bundle.entries) {
      print(`  ${entry.name} (${entry.kind}, ${Buffer.byteLength(entry.content)} bytes)`);
    }
    if (options.outDir === undefined && !options.list)
      warn('pass --out-dir <dir> to write the files');
    return ExitCode.ok;
  }
  const dir = options.outDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  try {
    for (const entry of bundle.entries) {
      const file = join(dir, entry.name);
      // wx: never replace a file; a restore writes into a fresh directory.
      await writeFile(file, entry.content, { mode: 0o600, flag: 'wx' });
      written.push(file);
    }
  } catch (err) {
    for (const file of written) await rm(file, { force: true });
    throw err;
  }
  for (const entry of bundle.entries)
    print(`wrote ${join(dir, entry.name)} (${entry.kind}, mode 0600)`);
  return ExitCode.ok;
}
