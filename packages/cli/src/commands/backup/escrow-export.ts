import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadKeyring } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import {
  backupKey,
  encryptFile,
  isProtectedKeyFile,
  splitSecret,
  unprotectKeyFile,
} from '@custos/core/stream';
import { loadJwtKeyset } from '@custos/core/tokens';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { serverClient } from '../../server-client.js';
import { readSecretFile } from '../shamir/secret-input.js';
import { type EscrowEntry, serializeEscrow } from './escrow-bundle.js';
import { type RecipientFlags, recipientsOf } from './keys.js';

interface Options extends RecipientFlags {
  out: string;
  escrowKeyring?: string[];
  jwtKeyset?: string[];
  kmsFile?: string[];
  file?: string[];
  transitBackup?: string[];
  split?: string;
  sharesDir?: string;
}

/** A key file's text, opened when protected (CUSTOS_KEY_*): the escrow holds what a restore reads. */
async function keyFileText(path: string): Promise<string> {
  const text = (await readSecretFile(path, 'key file')).toString('utf8');
  return isProtectedKeyFile(text) ? unprotectKeyFile(text) : text;
}

function parseSplit(value: string): { threshold: number; shares: number } {
  const match = /^(\d{1,3})\/(\d{1,3})$/.exec(value);
  if (match === null) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      '--split takes <threshold>/<shares>, such as 3/5',
    );
  }
  return { threshold: Number(match[1]), shares: Number(match[2]) };
}

export async function run(options: Options): Promise<number> {
  const split = options.split === undefined ? undefined : parseSplit(options.split);
  if ((split === undefined) !== (options.sharesDir === undefined)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', '--split and --shares-dir go together');
  }
  const entries: EscrowEntry[] = [];
  for (const path of options.escrowKeyring ?? []) {
    const content = await keyFileText(path);
    loadKeyring(content);
    entries.push({ name: basename(path), kind: 'keyring', content });
  }
  for (const path of options.jwtKeyset ?? []) {
    const content = await keyFileText(path);
    await loadJwtKeyset(content);
    entries.push({ name: basename(path), kind: 'jwt-keyset', content });
  }
  for (const path of options.kmsFile ?? []) {
    entries.push({ name: basename(path), kind: 'kms', content: await keyFileText(path) });
  }
  for (const path of options.file ?? []) {
    entries.push({ name: basename(path), kind: 'file', content: await keyFileText(path) });
  }
  for (const name of options.transitBackup ?? []) {
    const { body } = await serverClient(options).request(
      'GET',
      `${options.transitMount.replace(/^\/+|\/+$/g, '')}/backup/${encodeURIComponent(name)}`,
    );
    const backup = (body as { data?: { backup?: unknown } } | null)?.data?.backup;
    if (typeof backup !== 'string') {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `the server gave no backup of transit key ${name}`,
      );
    }
    entries.push({ name: `transit-${name}.backup`, kind: 'transit-backup', content: backup });
  }
  if (entries.length === 0) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'name what to escrow: --escrow-keyring, --jwt-keyset, --kms-file, --file or --transit-backup',
    );
  }
  const text = serializeEscrow(entries);
  const hasOthers =
    (options.recipient?.length ?? 0) + (options.keyFile?.length ?? 0) > 0 ||
    options.passphraseFile !== undefined ||
    options.transitKey !== undefined ||
    options.keyring !== undefined;
  const recipients = hasOthers || split === undefined ? await recipientsOf(options) : [];
  // --split: a fresh key opens the escrow too; only its shares leave this process.
  const escrowKey = split === undefined ? undefined : randomBytes(32);
  const keyText = escrowKey === undefined ? undefined : Buffer.from(escrowKey.toString('hex'));
  let lines: string[] = [];
  try {
    if (escrowKey !== undefined && keyText !== undefined && split !== undefined) {
      lines = await splitSecret(keyText, split);
      recipients.push(backupKey(escrowKey));
    }
    await encryptFile(
      (async function* () {
        yield Buffer.from(text, 'utf8');
      })(),
      options.out,
      { recipients },
    );
  } finally {
    escrowKey?.fill(0);
    keyText?.fill(0);
  }
  if (options.sharesDir !== undefined) {
    const dir = options.sharesDir;
    const written: string[] = [];
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const [i, line] of lines.entries()) {
        const file = join(dir, `escrow-share-${i + 1}-of-${lines.length}.txt`);
        await writeFile(file, `${line}\n`, { mode: 0o600, flag: 'wx' });
        written.push(file);
      }
    } catch (err) {
      // Shares that cannot all be written leave no escrow that only they open.
      for (const file of written) await rm(file, { force: true });
      await rm(options.out, { force: true });
      throw err;
    }
    warn(`wrote ${lines.length} shares to ${dir}: any ${split?.threshold} of them open the escrow`);
  }
  print(
    `escrowed ${entries.length} file${entries.length === 1 ? '' : 's'} (${entries.map((e) => e.name).join(', ')}) into ${options.out}`,
  );
  return ExitCode.ok;
}
