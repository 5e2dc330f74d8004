import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { CustosError } from '../errors/index.js';
import type { TransitKeyVersion } from './transit-key.js';

const DOMAIN = 'custos/transit/revoked-material/v1';

const fingerprint = (kind: string, bytes: Buffer) =>
  createHash('sha256').update(`${DOMAIN}\0${kind}\0`).update(bytes).digest('hex');

/**
 * Fingerprints of one version's secret material: its encryption key, its HMAC key, and its key
 * pair (by the public key, so a re-encoded private key matches too). SHA-256 of 256-bit random
 * keys: they name the material without revealing it, and are stored in the clear.
 */
function fingerprintsOf(version: TransitKeyVersion): string[] {
  const prints = [fingerprint('hmac', Buffer.from(version.hmac_key, 'base64'))];
  if (version.key !== undefined)
    prints.push(fingerprint('key', Buffer.from(version.key, 'base64')));
  if (version.private_key !== undefined) {
    const pair = createPrivateKey({
      key: Buffer.from(version.private_key, 'base64'),
      format: 'der',
      type: 'pkcs8',
    });
    prints.push(
      fingerprint('public', createPublicKey(pair).export({ type: 'spki', format: 'der' })),
    );
  }
  return prints;
}

/**
 * Every fingerprint of `versions`' material with the version it belongs to. A revoked key's
 * fingerprints are recorded for good (the server keeps them after the key is deleted, the local
 * KMS in its file), and a restore carrying any of them is refused: revocation is final, also for
 * a copy of the key taken before it (see {@link assertNotRevoked}).
 *
 * @example
 * ```ts
 * for (const { fingerprint } of materialFingerprints(versions)) revoked.add(fingerprint);
 * ```
 */
export function materialFingerprints(
  versions: readonly TransitKeyVersion[],
): { fingerprint: string; version: number }[] {
  return versions.flatMap((v) =>
    fingerprintsOf(v).map((print) => ({ fingerprint: print, version: v.version })),
  );
}

/**
 * Refuses a restore whose material was revoked (`ERR_INVALID_KEY_STATE`): `revokedKey` names the
 * key the material belonged to when it was revoked, or is undefined when it was not revoked.
 *
 * @example
 * ```ts
 * assertNotRevoked(version, registry.get(fingerprint));
 * ```
 */
export function assertNotRevoked(version: number, revokedKey: string | undefined): void {
  if (revokedKey !== undefined) {
    throw new CustosError(
      'ERR_INVALID_KEY_STATE',
      `backup: version ${version} holds key material revoked with key ${revokedKey}: revocation is final, a backup cannot bring it back`,
    );
  }
}
