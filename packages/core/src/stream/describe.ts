import type { BackupStanza } from './format.js';
import { describeKeyringStanza } from './keyring-key.js';
import { describeKmsStanza } from './kms-key.js';
import { describePassphraseStanza } from './passphrase.js';
import { STANZA_TYPE } from './recipient.js';
import { describeKeyStanza } from './symmetric-key.js';
import { describeTransitStanza } from './transit-key.js';
import { describeX25519Stanza } from './x25519.js';

/**
 * What a recipient stanza says about the key it needs, without any secret: the recipient
 * string, the key id, the keyring key, transit key or KMS key, or the passphrase's Argon2id
 * cost.
 */
export type StanzaDescription =
  | { readonly type: 'x25519'; readonly recipient: string; readonly summary: string }
  | {
      readonly type: 'passphrase';
      readonly memoryKiB: number;
      readonly iterations: number;
      readonly parallelism: number;
      readonly summary: string;
    }
  | { readonly type: 'key'; readonly keyId: string; readonly summary: string }
  | {
      readonly type: 'keyring';
      readonly keyName: string;
      readonly keyId: string;
      readonly keyVersion: number;
      readonly summary: string;
    }
  | {
      readonly type: 'transit';
      readonly keyName: string;
      readonly keyVersion: number;
      readonly summary: string;
    }
  | {
      readonly type: 'kms';
      /** The `KMS_PROVIDER` value that opens it (`aws`, `azure`, `gcp`, `pkcs11`, `local`…). */
      readonly provider: string;
      /** The KMS key: an ARN, a key name or label, a Key Vault key URL. */
      readonly keyReference: string;
      /** The id the data key is bound to (derived from the file key; the same after a rekey). */
      readonly fileId: string;
      readonly summary: string;
    }
  | { readonly type: 'unknown'; readonly typeByte: number; readonly summary: string };

/** Describes one stanza (see {@link StanzaDescription}). */
export function describeStanza(stanza: BackupStanza): StanzaDescription {
  switch (stanza.type) {
    case STANZA_TYPE.x25519: {
      const { recipient } = describeX25519Stanza(stanza.body);
      return { type: 'x25519', recipient, summary: `X25519 recipient ${recipient}` };
    }
    case STANZA_TYPE.passphrase: {
      const p = describePassphraseStanza(stanza.body);
      return {
        type: 'passphrase',
        ...p,
        summary: `passphrase (Argon2id, ${p.memoryKiB} KiB, ${p.iterations} passes, ${p.parallelism} lanes)`,
      };
    }
    case STANZA_TYPE.key: {
      const { keyId } = describeKeyStanza(stanza.body);
      return { type: 'key', keyId, summary: `key file with key id ${keyId}` };
    }
    case STANZA_TYPE.keyring: {
      const k = describeKeyringStanza(stanza.body);
      return {
        type: 'keyring',
        ...k,
        summary: `keyring key ${JSON.stringify(k.keyName)} (id ${k.keyId}, version ${k.keyVersion})`,
      };
    }
    case STANZA_TYPE.transit: {
      const t = describeTransitStanza(stanza.body);
      return {
        type: 'transit',
        ...t,
        summary: `transit key ${JSON.stringify(t.keyName)} (version ${t.keyVersion}) on a custos server`,
      };
    }
    case STANZA_TYPE.kms: {
      const { keyDescription, ...k } = describeKmsStanza(stanza.body);
      return { type: 'kms', ...k, summary: keyDescription };
    }
    default:
      return {
        type: 'unknown',
        typeByte: stanza.type,
        summary: `a key of unknown type ${stanza.type} (written by a newer custos?)`,
      };
  }
}
