import { randomBytes } from 'node:crypto';
import {
  checkEncryption,
  decryptWithKey,
  encryptWithKey,
  parseVersioned,
  signWithKey,
  verifyWithKey,
} from '@custos/core/internal/transit';
import { AwsError } from '../aws-error.js';
import { blobAad, blobHeader, type KmsBlob } from './kms-blob.js';
import { kmsErrorOf, kmsInvalidCiphertext, kmsInvalidKeyUsage } from './kms-error.js';
import {
  assertUsable,
  type KmsCall,
  type KmsDeps,
  kmsSpecOf,
  RSA_ENCRYPTION,
  type RsaEncryptionAlgorithm,
  signingOf,
  specOf,
  viewOf,
} from './kms-keys.js';

/** A one-slot encryption session on transit key `name`, its refusals as KMS errors. */
async function encryptionSession(deps: KmsDeps, name: string) {
  try {
    return await deps.transit.forEncryption(name, 1);
  } catch (err) {
    throw kmsErrorOf(err);
  }
}

/**
 * Seals `plaintext` under the latest version of transit key `name` into a blob (kms-blob.ts),
 * `context` (canonical) bound as associated data with the blob's header. The encryption takes
 * a counted slot of the version, as transit's own encryptions do.
 *
 * @example
 * ```ts
 * const { blob, version } = await sealUnder(deps, 'orders', plaintext, canonicalContext(ctx));
 * ```
 */
export async function sealUnder(
  deps: KmsDeps,
  name: string,
  plaintext: Buffer,
  context: Buffer,
): Promise<{ blob: Buffer; version: number }> {
  const session = await encryptionSession(deps, name);
  assertUsable(
    session.view,
    specOf(session.view.policy.type),
    'ENCRYPT_DECRYPT',
    'encrypt',
    deps.now(),
    'SYMMETRIC_DEFAULT',
  );
  const view = await session.take(undefined);
  const version = checkEncryption(view, undefined);
  const header = blobHeader(name, version);
  const { ciphertext } = encryptWithKey(view, {
    plaintext,
    associatedData: blobAad(header, context),
    keyVersion: version,
  });
  return { blob: Buffer.concat([header, parseVersioned(ciphertext).bytes]), version };
}

/**
 * Opens a blob with the key version its header names; any change to the blob, another
 * context, or a header naming another key fails as InvalidCiphertextException.
 *
 * @example
 * ```ts
 * const plaintext = await openBlob(deps, parseBlob(bytes), canonicalContext(ctx));
 * ```
 */
export async function openBlob(deps: KmsDeps, blob: KmsBlob, context: Buffer): Promise<Buffer> {
  const view = await viewOf(deps, blob.keyName, [blob.version]);
  assertUsable(
    view,
    specOf(view.policy.type),
    'ENCRYPT_DECRYPT',
    'decrypt',
    deps.now(),
    'SYMMETRIC_DEFAULT',
  );
  return decryptWithKey(view, {
    ciphertext: `vault:v${blob.version}:${blob.sealed.toString('base64')}`,
    associatedData: blobAad(blob.header, context),
  }).plaintext;
}

/** A fresh data key of `bytes` bytes. */
export const dataKey = (bytes: number) => randomBytes(bytes);

/** The signing parameters of a key for the algorithm the request names (which it must serve). */
function signingParameters(view: Awaited<ReturnType<typeof viewOf>>, algorithm: string) {
  const signing = signingOf(view.policy.type, algorithm);
  if (signing === undefined) {
    const served = specOf(view.policy.type)?.signingAlgorithms?.join(', ') ?? 'no algorithm';
    throw kmsInvalidKeyUsage(`key ${view.policy.name} signs with ${served}, not the one requested`);
  }
  return { ...signing, marshalingAlgorithm: 'asn1' as const };
}

/** Sign: the DER signature (ECDSA) or the raw one (Ed25519), as AWS returns it. */
export async function signMessage(
  call: KmsCall,
  name: string,
  message: Buffer,
  algorithm: string,
): Promise<{ signature: Buffer; version: number }> {
  const view = await viewOf(call.deps, name);
  assertUsable(
    view,
    await kmsSpecOf(call.deps, view.policy),
    'SIGN_VERIFY',
    'encrypt',
    call.deps.now(),
  );
  const { signature, keyVersion } = signWithKey(view, message, signingParameters(view, algorithm));
  return { signature: parseVersioned(signature).bytes, version: keyVersion };
}

/** The most versions Verify tries (a signature carries no version: newest first). */
const MAX_VERIFY_VERSIONS = 100;

/**
 * Verify: a signature made by any version still held from `min_decryption_version` (newest
 * first); an invalid one is KMSInvalidSignatureException, as in AWS.
 */
export async function verifyMessage(
  call: KmsCall,
  name: string,
  message: Buffer,
  signature: Buffer,
  algorithm: string,
): Promise<{ version: number }> {
  let view = await viewOf(call.deps, name);
  assertUsable(
    view,
    await kmsSpecOf(call.deps, view.policy),
    'SIGN_VERIFY',
    'decrypt',
    call.deps.now(),
  );
  const options = signingParameters(view, algorithm);
  const { latest_version: latest, min_decryption_version: floor } = view.policy;
  const oldest = Math.max(1, floor, latest - MAX_VERIFY_VERSIONS + 1);
  const versions: number[] = [];
  for (let v = latest; v >= oldest; v--) versions.push(v);
  view = await viewOf(call.deps, name, versions);
  for (const v of versions) {
    if (view.version(v) === undefined) continue;
    if (verifyWithKey(view, message, `vault:v${v}:${signature.toString('base64')}`, options))
      return { version: v };
  }
  throw new AwsError('KMSInvalidSignatureException', 'the signature does not verify with this key');
}

/**
 * Encrypt with an RSA ENCRYPT_DECRYPT key: RSA-OAEP (SHA-1 or SHA-256, as `algorithm` names)
 * under the latest version, through transit's RSA encryption (node:crypto). The blob is the
 * bare RSA ciphertext, as AWS returns it: it names no key, so Decrypt takes `KeyId`.
 *
 * @example
 * ```ts
 * const { blob } = await rsaEncrypt(deps, 'key-id', plaintext, 'RSAES_OAEP_SHA_256');
 * ```
 */
export async function rsaEncrypt(
  deps: KmsDeps,
  name: string,
  plaintext: Buffer,
  algorithm: RsaEncryptionAlgorithm,
): Promise<{ blob: Buffer; version: number }> {
  const session = await encryptionSession(deps, name);
  const spec = await kmsSpecOf(deps, session.view.policy);
  assertUsable(session.view, spec, 'ENCRYPT_DECRYPT', 'encrypt', deps.now(), 'RSA');
  const view = await session.take(undefined);
  const version = checkEncryption(view, undefined);
  const { ciphertext } = encryptWithKey(view, {
    plaintext,
    keyVersion: version,
    oaepHash: RSA_ENCRYPTION[algorithm],
  });
  return { blob: parseVersioned(ciphertext).bytes, version };
}

/** The most versions an RSA Decrypt tries (a bare RSA ciphertext carries no version). */
const MAX_DECRYPT_VERSIONS = 100;

/**
 * Decrypt with an RSA ENCRYPT_DECRYPT key: the versions from the latest down to
 * `min_decryption_version` (at most 100) are tried, newest first, as Verify does; none
 * opening it is InvalidCiphertextException (one answer, whatever failed).
 *
 * @example
 * ```ts
 * const { plaintext } = await rsaDecrypt(deps, 'key-id', blob, 'RSAES_OAEP_SHA_256');
 * ```
 */
export async function rsaDecrypt(
  deps: KmsDeps,
  name: string,
  blob: Buffer,
  algorithm: RsaEncryptionAlgorithm,
): Promise<{ plaintext: Buffer; version: number }> {
  let view = await viewOf(deps, name);
  const spec = await kmsSpecOf(deps, view.policy);
  assertUsable(view, spec, 'ENCRYPT_DECRYPT', 'decrypt', deps.now(), 'RSA');
  const { latest_version: latest, min_decryption_version: floor } = view.policy;
  const oldest = Math.max(1, floor, latest - MAX_DECRYPT_VERSIONS + 1);
  const versions: number[] = [];
  for (let v = latest; v >= oldest; v--) versions.push(v);
  view = await viewOf(deps, name, versions);
  const oaepHash = RSA_ENCRYPTION[algorithm];
  for (const v of versions) {
    if (view.version(v) === undefined) continue;
    try {
      const { plaintext } = decryptWithKey(view, {
        ciphertext: `vault:v${v}:${blob.toString('base64')}`,
        oaepHash,
      });
      return { plaintext, version: v };
    } catch {
      // Not this version's (or not a ciphertext at all): the next one, then one refusal.
    }
  }
  throw kmsInvalidCiphertext(
    'the ciphertext blob does not decrypt with this key and encryption algorithm',
  );
}
