import { randomBytes } from 'node:crypto';
import type { Algorithm } from '@node-rs/argon2';
import { CustosError, MalformedCiphertext } from '../errors/index.js';
import { type BytesLike, toBuffer } from '../lib/bytes.js';
import { readKeyMaterialFile } from '../lib/private-file.js';
import type { BackupStanza } from './format.js';
import { type BackupIdentity, type BackupRecipient, STANZA_TYPE } from './recipient.js';
import { unwrapFileKey, WRAPPED_KEY_LENGTH, wrapFileKey } from './wrap.js';

/** Argon2id cost parameters of a passphrase stanza (stored in the header). */
export interface Argon2idParameters {
  /** Memory in KiB. */
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/**
 * What custos writes by default: 256 MiB, 3 passes, 1 lane (about a second on a current core).
 * A backup is an offline target, so the cost is set above the interactive-login figures.
 *
 * @example
 * ```ts
 * passphraseKey(passphrase, { parameters: { ...DEFAULT_PASSPHRASE_PARAMETERS, iterations: 4 } });
 * ```
 */
export const DEFAULT_PASSPHRASE_PARAMETERS: Argon2idParameters = {
  memoryKiB: 256 * 1024,
  iterations: 3,
  parallelism: 1,
};

/**
 * Bounds on parameters: writing refuses less than OWASP's Argon2id floor (19 MiB, 2 passes);
 * reading refuses more than 2 GiB, 32 passes or 16 lanes, so an edited header cannot make
 * `decrypt` exhaust the machine.
 */
const LIMITS = {
  minMemoryKiB: 19 * 1024,
  maxMemoryKiB: 2 * 1024 * 1024,
  minIterations: 2,
  maxIterations: 32,
  maxParallelism: 16,
};
const LABEL = 'custos-backup/v1 passphrase';
const ARGON2ID = 2 as Algorithm;
const SALT_LENGTH = 16;
const BODY_LENGTH = 4 + 4 + 1 + SALT_LENGTH + WRAPPED_KEY_LENGTH;

/** Options of {@link passphraseKey}. */
export interface PassphraseKeyOptions {
  /** Argon2id cost when encrypting; default {@link DEFAULT_PASSPHRASE_PARAMETERS}. */
  readonly parameters?: Argon2idParameters;
}

/**
 * A passphrase as recipient and identity: the file key is wrapped under Argon2id(passphrase,
 * random salt), with the parameters in the header. A wrong passphrase is not told apart from a
 * stanza for another passphrase: decryption then reports that no key opens the file.
 *
 * @example
 * ```ts
 * const key = passphraseKey(await readFile('passphrase.txt', 'utf8'));
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [key] });
 * ```
 */
export function passphraseKey(
  passphrase: BytesLike,
  options: PassphraseKeyOptions = {},
): BackupRecipient & BackupIdentity {
  const secret = Buffer.from(toBuffer(passphrase));
  if (secret.length === 0) throw new CustosError('ERR_INVALID_ARGUMENT', 'the passphrase is empty');
  const parameters = options.parameters ?? DEFAULT_PASSPHRASE_PARAMETERS;
  checkWritable(parameters);
  return {
    async wrapFileKey(fileKey: Buffer): Promise<BackupStanza> {
      const salt = randomBytes(SALT_LENGTH);
      const wrapped = wrapFileKey(await derive(secret, salt, parameters), fileKey, LABEL);
      const head = Buffer.alloc(9);
      head.writeUInt32BE(parameters.memoryKiB, 0);
      head.writeUInt32BE(parameters.iterations, 4);
      head.writeUInt8(parameters.parallelism, 8);
      return { type: STANZA_TYPE.passphrase, body: Buffer.concat([head, salt, wrapped]) };
    },
    async unwrapFileKey(stanza: BackupStanza): Promise<Buffer | undefined> {
      if (stanza.type !== STANZA_TYPE.passphrase) return undefined;
      const { parameters: stored, salt, wrapped } = readBody(stanza.body);
      try {
        return unwrapFileKey(await derive(secret, salt, stored), wrapped, LABEL);
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * A passphrase read from a file, as {@link passphraseKey}. The file must be mode 0600 (or
 * stricter) and belong to this user or root (`ERR_INSECURE_FILE`), as every custos key file;
 * one trailing line break is not part of the passphrase.
 *
 * @example
 * ```ts
 * const key = await readPassphraseFile('/run/secrets/backup-passphrase');
 * ```
 */
export async function readPassphraseFile(
  path: string,
  options: PassphraseKeyOptions = {},
): Promise<BackupRecipient & BackupIdentity> {
  const text = (await readKeyMaterialFile(path, 'passphrase file')).replace(/\r?\n$/, '');
  if (text === '')
    throw new CustosError('ERR_INVALID_ARGUMENT', `passphrase file ${path} is empty`);
  return passphraseKey(text, options);
}

/** What `inspect` shows of a passphrase stanza: its Argon2id parameters. */
export function describePassphraseStanza(body: Buffer): Argon2idParameters {
  return readBody(body).parameters;
}

async function derive(secret: Buffer, salt: Buffer, p: Argon2idParameters): Promise<Buffer> {
  // Loaded here so the entry loads no native add-on until a passphrase is used.
  const { hashRaw } = await import('@node-rs/argon2');
  return hashRaw(secret, {
    salt,
    memoryCost: p.memoryKiB,
    timeCost: p.iterations,
    parallelism: p.parallelism,
    outputLen: 32,
    algorithm: ARGON2ID,
  });
}

function readBody(body: Buffer) {
  if (body.length !== BODY_LENGTH) {
    throw new MalformedCiphertext(`a passphrase stanza holds ${BODY_LENGTH} bytes`);
  }
  const parameters = {
    memoryKiB: body.readUInt32BE(0),
    iterations: body.readUInt32BE(4),
    parallelism: body.readUInt8(8),
  };
  const { maxMemoryKiB, maxIterations, maxParallelism } = LIMITS;
  if (
    parameters.memoryKiB > maxMemoryKiB ||
    parameters.memoryKiB < 8 * parameters.parallelism ||
    parameters.iterations < 1 ||
    parameters.iterations > maxIterations ||
    parameters.parallelism < 1 ||
    parameters.parallelism > maxParallelism
  ) {
    throw new MalformedCiphertext(
      `the passphrase stanza asks for Argon2id with ${parameters.memoryKiB} KiB, ${parameters.iterations} passes, ${parameters.parallelism} lanes; custos reads at most ${maxMemoryKiB} KiB, ${maxIterations} passes, ${maxParallelism} lanes`,
    );
  }
  return {
    parameters,
    salt: body.subarray(9, 9 + SALT_LENGTH),
    wrapped: body.subarray(9 + SALT_LENGTH),
  };
}

function checkWritable(p: Argon2idParameters): void {
  const { minMemoryKiB, maxMemoryKiB, minIterations, maxIterations, maxParallelism } = LIMITS;
  const whole = (n: number) => Number.isInteger(n);
  if (
    !whole(p.memoryKiB) ||
    !whole(p.iterations) ||
    !whole(p.parallelism) ||
    p.memoryKiB < minMemoryKiB ||
    p.memoryKiB > maxMemoryKiB ||
    p.iterations < minIterations ||
    p.iterations > maxIterations ||
    p.parallelism < 1 ||
    p.parallelism > maxParallelism
  ) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `Argon2id parameters must be ${minMemoryKiB}..${maxMemoryKiB} KiB, ${minIterations}..${maxIterations} passes and 1..${maxParallelism} lanes`,
    );
  }
}
