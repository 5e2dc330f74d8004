import { CustosError, MalformedCiphertext } from '../errors/index.js';
import type { TransitClient } from '../kms/transit-client.js';
import type { BackupStanza } from './format.js';
import { type BackupIdentity, type BackupRecipient, STANZA_TYPE } from './recipient.js';

/**
 * A transit key on a custos (or Vault) server as recipient: the server encrypts the file key
 * (`transit/encrypt/<name>`) and the header keeps its `vault:vN:…` ciphertext, so decrypting
 * needs that server and a token allowed to decrypt with the key.
 *
 * @example
 * ```ts
 * const transit = createTransitClient({ auth: { token } });
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [transitRecipient(transit, 'backups')] });
 * ```
 */
export function transitRecipient(client: TransitClient, name: string): BackupRecipient {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length < 1 || nameBytes.length > 255) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'a transit key name holds 1 to 255 bytes');
  }
  return {
    async wrapFileKey(fileKey: Buffer): Promise<BackupStanza> {
      const { ciphertext } = await client.encrypt(name, fileKey);
      return {
        type: STANZA_TYPE.transit,
        body: Buffer.concat([Buffer.from([nameBytes.length]), nameBytes, Buffer.from(ciphertext)]),
      };
    },
  };
}

/**
 * The server as identity: it asks the transit engine to decrypt the file key of any transit
 * stanza, with the key the stanza names. The server's refusals come back as `ERR_KMS_REMOTE`.
 * `client` may be a function (or an async one), called only when a transit stanza is met (so a
 * missing token matters only for backups that need the server).
 *
 * @example
 * ```ts
 * await decryptFile('db.sql.cbk', 'db.sql', { identities: [transitIdentity(createTransitClient())] });
 * ```
 */
export function transitIdentity(
  client: TransitClient | (() => TransitClient | Promise<TransitClient>),
): BackupIdentity {
  let resolved: TransitClient | undefined;
  return {
    async unwrapFileKey(stanza: BackupStanza): Promise<Buffer | undefined> {
      if (stanza.type !== STANZA_TYPE.transit) return undefined;
      const { keyName, ciphertext } = readBody(stanza.body);
      resolved ??= typeof client === 'function' ? await client() : client;
      return resolved.decrypt(keyName, ciphertext);
    },
  };
}

/** What `inspect` shows of a transit stanza: key name and version. */
export function describeTransitStanza(body: Buffer): { keyName: string; keyVersion: number } {
  const { keyName, ciphertext } = readBody(body);
  const version = /^vault:v(\d+):/.exec(ciphertext);
  if (version === null)
    throw new MalformedCiphertext('a transit stanza holds no vault:vN: ciphertext');
  return { keyName, keyVersion: Number(version[1]) };
}

function readBody(body: Buffer) {
  const length = body[0] ?? 0;
  if (length === 0 || body.length < 1 + length + 1) {
    throw new MalformedCiphertext('a transit stanza is too short');
  }
  return {
    keyName: body.toString('utf8', 1, 1 + length),
    ciphertext: body.toString('utf8', 1 + length),
  };
}
