import { MalformedCiphertext } from '../errors/index.js';

/** The first bytes of every custos backup file ("CUSTOSBK"). */
export const MAGIC = Buffer.from('CUSTOSBK', 'latin1');
/** The format version this library writes and reads. */
export const FORMAT_VERSION = 1;
/** log2 of the plaintext chunk size: 64 KiB chunks. */
export const CHUNK_SIZE_LOG2 = 16;
/** Plaintext bytes per chunk (the last chunk may be shorter). */
export const CHUNK_SIZE = 2 ** CHUNK_SIZE_LOG2;
/** AES-256-GCM tag length: every chunk grows by this much. */
export const TAG_LENGTH = 16;
/** A sealed full chunk: 64 KiB of ciphertext and its tag. */
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_LENGTH;
/** Random salt of the payload key, in the header. */
export const PAYLOAD_SALT_LENGTH = 16;
/** HMAC-SHA256 of the header. */
export const HEADER_MAC_LENGTH = 32;
/** At most this many recipient stanzas per file. */
export const MAX_STANZAS = 32;
/** At most this many bytes per stanza body. */
export const MAX_STANZA_BODY = 4096;
/** magic, version, chunk size, stanza count. */
const FIXED_PREFIX = MAGIC.length + 3;

/**
 * One recipient stanza: how the file key is wrapped for one key, passphrase or recipient.
 * `type` is the stanza type byte (see `FORMAT.md`); `body` its type-specific bytes.
 */
export interface BackupStanza {
  readonly type: number;
  readonly body: Buffer;
}

/** A parsed header: the stanzas, the payload salt, and the MAC over `authenticated`. */
export interface ParsedHeader {
  readonly version: number;
  readonly stanzas: readonly BackupStanza[];
  readonly payloadSalt: Buffer;
  readonly mac: Buffer;
  /** Every header byte before the MAC (what the MAC covers). */
  readonly authenticated: Buffer;
  /** The whole header's length in bytes, MAC included. */
  readonly length: number;
}

/** Encodes the header bytes the MAC covers. */
export function encodeHeaderBody(stanzas: readonly BackupStanza[], payloadSalt: Buffer): Buffer {
  if (stanzas.length < 1 || stanzas.length > MAX_STANZAS) {
    throw new MalformedCiphertext(`a backup needs 1 to ${MAX_STANZAS} recipients`);
  }
  const parts: Buffer[] = [MAGIC, Buffer.from([FORMAT_VERSION, CHUNK_SIZE_LOG2, stanzas.length])];
  for (const stanza of stanzas) {
    if (stanza.body.length < 1 || stanza.body.length > MAX_STANZA_BODY) {
      throw new MalformedCiphertext(`a recipient stanza holds 1 to ${MAX_STANZA_BODY} bytes`);
    }
    const head = Buffer.alloc(3);
    head.writeUInt8(stanza.type, 0);
    head.writeUInt16BE(stanza.body.length, 1);
    parts.push(head, stanza.body);
  }
  parts.push(payloadSalt);
  return Buffer.concat(parts);
}

/**
 * Reads a header from `read`, which returns exactly `n` more bytes of the file (fewer only at
 * its end). Structure only: the MAC is checked once the file key is known.
 */
export async function parseHeader(read: (n: number) => Promise<Buffer>): Promise<ParsedHeader> {
  const parts: Buffer[] = [];
  const take = async (n: number, what: string) => {
    const bytes = await read(n);
    if (bytes.length < n) {
      throw new MalformedCiphertext(`not a custos backup: the file ends inside its ${what}`);
    }
    parts.push(bytes);
    return bytes;
  };
  const prefix = await read(FIXED_PREFIX);
  if (prefix.length < MAGIC.length || !prefix.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new MalformedCiphertext('not a custos backup (the file does not start with CUSTOSBK)');
  }
  if (prefix.length < FIXED_PREFIX) {
    throw new MalformedCiphertext('not a custos backup: the file ends inside its header');
  }
  parts.push(prefix);
  const version = prefix[MAGIC.length] as number;
  if (version !== FORMAT_VERSION) {
    throw new MalformedCiphertext(
      `backup format version ${version} is not supported (this custos reads version ${FORMAT_VERSION})`,
    );
  }
  if (prefix[MAGIC.length + 1] !== CHUNK_SIZE_LOG2) {
    throw new MalformedCiphertext(
      `backup chunk size 2^${prefix[MAGIC.length + 1]} is not supported`,
    );
  }
  const count = prefix[MAGIC.length + 2] as number;
  if (count < 1 || count > MAX_STANZAS) {
    throw new MalformedCiphertext(
      `a backup header names 1 to ${MAX_STANZAS} recipients, not ${count}`,
    );
  }
  const stanzas: BackupStanza[] = [];
  for (let i = 0; i < count; i++) {
    const head = await take(3, 'recipient stanzas');
    const length = head.readUInt16BE(1);
    if (length < 1 || length > MAX_STANZA_BODY) {
      throw new MalformedCiphertext(`recipient stanza ${i + 1} has an invalid length ${length}`);
    }
    stanzas.push({ type: head[0] as number, body: await take(length, 'recipient stanzas') });
  }
  const payloadSalt = await take(PAYLOAD_SALT_LENGTH, 'header');
  const authenticated = Buffer.concat(parts);
  const mac = await read(HEADER_MAC_LENGTH);
  if (mac.length < HEADER_MAC_LENGTH) {
    throw new MalformedCiphertext('not a custos backup: the file ends inside its header');
  }
  return {
    version,
    stanzas,
    payloadSalt,
    mac,
    authenticated,
    length: authenticated.length + HEADER_MAC_LENGTH,
  };
}
