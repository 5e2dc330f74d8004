import { AwsError } from '../aws-error.js';
import type { Judged } from '../operations.js';
import {
  cancelKeyDeletion,
  createAlias,
  deleteAlias,
  describeKey,
  getKeyRotationStatus,
  getPublicKey,
  listAliases,
  listKeys,
  scheduleKeyDeletion,
  setKeyEnabled,
  setKeyRotation,
  updateAlias,
} from './kms-admin.js';
import { canonicalContext, parseBlob } from './kms-blob.js';
import {
  dataKey,
  openBlob,
  rsaDecrypt,
  rsaEncrypt,
  sealUnder,
  signMessage,
  verifyMessage,
} from './kms-crypto.js';
import { kmsNotFound, kmsUnsupported, kmsValidation } from './kms-error.js';
import { blobField, kmsChoice, kmsInt, kmsString, refuseDryRun } from './kms-fields.js';
import {
  ALIASES_PATH,
  aliasName,
  aliasPathOf,
  type KeyRef,
  type KmsSite,
  keyArnOf,
  keyRefOf,
} from './kms-key-id.js';
import {
  createKey,
  type KmsCall,
  type RsaEncryptionAlgorithm,
  typeForSpec,
  used,
} from './kms-keys.js';

/** The keys a request names, by role: the key, ReEncrypt's source and destination, Decrypt's hint. */
export type KeyRole = 'key' | 'source' | 'destination' | 'hint';

/** A role's key as admission found it: a transit key, or an alias that names none. */
export type ResolvedKey = { readonly name: string } | { readonly unknownAlias: string };

/**
 * One KMS operation: the keys it names (read without storage), the ACL checks on the transit
 * keys they resolve to (the first is what the audit log records), and what it does.
 */
export interface KmsOperation {
  refs(body: Record<string, unknown>, site: KmsSite): Partial<Record<KeyRole, KeyRef>>;
  checks(
    keys: Partial<Record<KeyRole, ResolvedKey>>,
    body: Record<string, unknown>,
    site: KmsSite,
  ): readonly Judged[];
  run(call: KmsCall, body: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** The checks of one key role: `path` on the transit key, or a read of an alias naming none. */
const onKey =
  (role: KeyRole, path: (mount: string, name: string) => string, operation: Judged['operation']) =>
  (keys: Partial<Record<KeyRole, ResolvedKey>>, _body: unknown, site: KmsSite): Judged[] => {
    const key = keys[role];
    if (key === undefined) return [];
    if ('unknownAlias' in key) return [{ path: aliasPathOf(key.unknownAlias), operation: 'read' }];
    return [{ path: path(site.transitMount, key.name), operation }];
  };

/** The transit key of `role` (NotFoundException for an alias that names none). */
export function keyOf(call: KmsCall, role: KeyRole): string {
  const name = call.keys[role];
  if (name === undefined) throw kmsNotFound('the alias names no key');
  return name;
}

const keyRef =
  (field: string, role: KeyRole = 'key') =>
  (body: Record<string, unknown>, site: KmsSite) => ({
    [role]: keyRefOf(site, body[field], field),
  });
const blobRef = (field: string) => (body: Record<string, unknown>) => {
  const blob = parseBlob(blobField(body[field], field, 6144));
  return { kind: 'key' as const, name: blob.keyName };
};

/** Transit's policy paths, on the mount the keys are on (docs/aws.md lists the mapping). */
const paths = {
  key: (m: string, n: string) => `${m}/keys/${n}`,
  config: (m: string, n: string) => `${m}/keys/${n}/config`,
  state: (m: string, n: string) => `${m}/keys/${n}/state`,
  encrypt: (m: string, n: string) => `${m}/encrypt/${n}`,
  decrypt: (m: string, n: string) => `${m}/decrypt/${n}`,
  datakeyPlain: (m: string, n: string) => `${m}/datakey/plaintext/${n}`,
  datakeyWrapped: (m: string, n: string) => `${m}/datakey/wrapped/${n}`,
  sign: (m: string, n: string) => `${m}/sign/${n}`,
  verify: (m: string, n: string) => `${m}/verify/${n}`,
};

const b64 = (bytes: Buffer) => bytes.toString('base64');
const ENCRYPTION_ALGORITHM = 'SYMMETRIC_DEFAULT';
const ENCRYPTION_ALGORITHMS = [
  ENCRYPTION_ALGORITHM,
  'RSAES_OAEP_SHA_1',
  'RSAES_OAEP_SHA_256',
] as const;
/** An `EncryptionAlgorithm` member: SYMMETRIC_DEFAULT (the default) or an RSA-OAEP one. */
const encryptionAlgorithmOf = (value: unknown, field = 'EncryptionAlgorithm') =>
  kmsChoice(value, field, ENCRYPTION_ALGORITHMS) ?? ENCRYPTION_ALGORITHM;
/** ReEncrypt's algorithms: symmetric keys only (an RSA ciphertext is Decrypt, then Encrypt). */
const checkEncryptionAlgorithm = (value: unknown, field: string) => {
  if (encryptionAlgorithmOf(value, field) !== ENCRYPTION_ALGORITHM)
    throw kmsUnsupported(
      `${field}: ReEncrypt with RSA keys is not served here; Decrypt, then Encrypt`,
    );
};
/** Whether an algorithm is RSA-OAEP (an RSA key, a bare RSA ciphertext). */
const isRsaAlgorithm = (
  algorithm: (typeof ENCRYPTION_ALGORITHMS)[number],
): algorithm is RsaEncryptionAlgorithm => algorithm !== ENCRYPTION_ALGORITHM;
/** RSA keys take no encryption context (AWS's rule for asymmetric keys). */
function refuseContext(value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'object' && Object.keys(value).length === 0) return;
  throw kmsValidation('EncryptionContext is not supported with RSA (asymmetric) keys');
}
const SIGNING_ALGORITHMS = [
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ED25519_SHA_512',
  'SM2DSA',
] as const;

/** The signing algorithm and message of Sign and Verify (RAW messages only). */
function signingInput(body: Record<string, unknown>) {
  const algorithm = kmsChoice(body.SigningAlgorithm, 'SigningAlgorithm', SIGNING_ALGORITHMS);
  if (algorithm === undefined) throw kmsValidation('SigningAlgorithm is required');
  const type = kmsChoice(body.MessageType, 'MessageType', ['RAW', 'DIGEST']);
  if (type === 'DIGEST')
    throw kmsUnsupported('MessageType DIGEST is not served: send the RAW message');
  return { algorithm, message: blobField(body.Message, 'Message', 4096) };
}

/** A data key's length: `KeySpec` (AES_128, AES_256) or `NumberOfBytes` (1–1024), exactly one. */
function dataKeyBytes(body: Record<string, unknown>): number {
  const spec = kmsChoice(body.KeySpec, 'KeySpec', ['AES_128', 'AES_256']);
  const bytes = kmsInt(body.NumberOfBytes, 'NumberOfBytes', 1, 1024);
  if ((spec === undefined) === (bytes === undefined))
    throw kmsValidation('give either KeySpec or NumberOfBytes');
  return bytes ?? (spec === 'AES_128' ? 16 : 32);
}

/** GenerateDataKey and GenerateDataKeyWithoutPlaintext. */
const generateDataKey = (withPlaintext: boolean): KmsOperation => ({
  refs: keyRef('KeyId'),
  checks: onKey('key', withPlaintext ? paths.datakeyPlain : paths.datakeyWrapped, 'update'),
  run: async (call, body) => {
    refuseDryRun(body);
    const bytes = dataKeyBytes(body);
    const context = canonicalContext(body.EncryptionContext);
    const name = keyOf(call, 'key');
    const key = dataKey(bytes);
    try {
      const { blob } = await used(
        call,
        name,
        withPlaintext ? 'datakey-plaintext' : 'datakey-wrapped',
        async () => {
          const sealed = await sealUnder(call.deps, name, key, context);
          return { result: sealed, version: sealed.version };
        },
      );
      return {
        CiphertextBlob: b64(blob),
        ...(withPlaintext ? { Plaintext: b64(key) } : {}),
        KeyId: keyArnOf(call.deps.site, name),
      };
    } finally {
      if (!withPlaintext) key.fill(0);
    }
  },
});

/** The operations served, by the name in `X-Amz-Target: TrentService.<name>`. */
export const KMS_OPERATIONS: Readonly<Record<string, KmsOperation>> = {
  CreateKey: {
    refs: () => ({}),
    checks: (_keys, _body, site) => [{ path: `${site.transitMount}/keys/`, operation: 'create' }],
    run: async (call, body) => {
      const keySpec =
        kmsString(body.KeySpec, 'KeySpec', 64) ??
        kmsString(body.CustomerMasterKeySpec, 'CustomerMasterKeySpec', 64) ??
        'SYMMETRIC_DEFAULT';
      const keyUsage = kmsString(body.KeyUsage, 'KeyUsage', 64) ?? 'ENCRYPT_DECRYPT';
      const origin = kmsString(body.Origin, 'Origin', 32);
      if (origin !== undefined && origin !== 'AWS_KMS')
        throw kmsUnsupported('this server creates keys of Origin AWS_KMS only');
      if (body.MultiRegion === true) throw kmsUnsupported('multi-Region keys are not served');
      if (body.Policy !== undefined && body.Policy !== null)
        throw kmsUnsupported(
          'key policies are not served: custos ACL policies on the transit paths govern KMS keys',
        );
      const tags = body.Tags === undefined || body.Tags === null ? undefined : tagsOf(body.Tags);
      return createKey(call.deps, {
        type: typeForSpec(keySpec, keyUsage),
        keyUsage: keyUsage === 'SIGN_VERIFY' ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT',
        description: kmsString(body.Description, 'Description', 8192),
        tags,
      });
    },
  },
  DescribeKey: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.key, 'read'),
    run: (call) => describeKey(call, keyOf(call, 'key')),
  },
  ListKeys: {
    refs: () => ({}),
    checks: (_keys, _body, site) => [{ path: `${site.transitMount}/keys/`, operation: 'list' }],
    run: (call, body) =>
      listKeys(
        call,
        kmsInt(body.Limit, 'Limit', 1, 1000) ?? 100,
        kmsString(body.Marker, 'Marker', 320),
      ),
  },
  ListAliases: {
    refs: (body, site) =>
      body.KeyId === undefined || body.KeyId === null ? {} : { key: keyRefOf(site, body.KeyId) },
    checks: () => [{ path: ALIASES_PATH, operation: 'list' }],
    run: (call, body) =>
      listAliases(call, {
        limit: kmsInt(body.Limit, 'Limit', 1, 100) ?? 50,
        marker: kmsString(body.Marker, 'Marker', 320),
        forKey:
          body.KeyId === undefined || body.KeyId === null ? undefined : (call.keys.key ?? null),
      }),
  },
  CreateAlias: {
    refs: (body, site) => ({ key: targetRef(body, site) }),
    checks: (keys, body, site) => [
      { path: aliasPathOf(aliasName(body.AliasName)), operation: 'create' },
      ...onKey('key', paths.key, 'update')(keys, body, site),
    ],
    run: (call, body) => createAlias(call, aliasName(body.AliasName), keyOf(call, 'key')),
  },
  UpdateAlias: {
    refs: (body, site) => ({ key: targetRef(body, site) }),
    checks: (keys, body, site) => [
      { path: aliasPathOf(aliasName(body.AliasName)), operation: 'update' },
      ...onKey('key', paths.key, 'update')(keys, body, site),
    ],
    run: (call, body) => updateAlias(call, aliasName(body.AliasName), keyOf(call, 'key')),
  },
  DeleteAlias: {
    refs: () => ({}),
    checks: (_keys, body) => [
      { path: aliasPathOf(aliasName(body.AliasName)), operation: 'delete' },
    ],
    run: (call, body) => deleteAlias(call, aliasName(body.AliasName)),
  },
  Encrypt: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.encrypt, 'update'),
    run: async (call, body) => {
      refuseDryRun(body);
      const algorithm = encryptionAlgorithmOf(body.EncryptionAlgorithm);
      const plaintext = blobField(body.Plaintext, 'Plaintext', 4096);
      const name = keyOf(call, 'key');
      if (isRsaAlgorithm(algorithm)) {
        refuseContext(body.EncryptionContext);
        const blob = await used(call, name, 'encrypt', async () => {
          const sealed = await rsaEncrypt(call.deps, name, plaintext, algorithm);
          return { result: sealed.blob, version: sealed.version };
        });
        return {
          CiphertextBlob: b64(blob),
          KeyId: keyArnOf(call.deps.site, name),
          EncryptionAlgorithm: algorithm,
        };
      }
      const context = canonicalContext(body.EncryptionContext);
      const { blob } = await used(call, name, 'encrypt', async () => {
        const sealed = await sealUnder(call.deps, name, plaintext, context);
        return { result: sealed, version: sealed.version };
      });
      return {
        CiphertextBlob: b64(blob),
        KeyId: keyArnOf(call.deps.site, name),
        EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
      };
    },
  },
  Decrypt: {
    refs: (body, site) => {
      // A bare RSA ciphertext names no key: KeyId does (required, as in AWS).
      if (isRsaAlgorithm(encryptionAlgorithmOf(body.EncryptionAlgorithm))) {
        if (body.KeyId === undefined || body.KeyId === null)
          throw kmsValidation('KeyId is required to decrypt with an RSAES_OAEP algorithm');
        return { key: keyRefOf(site, body.KeyId) };
      }
      return {
        key: blobRef('CiphertextBlob')(body),
        ...(body.KeyId === undefined || body.KeyId === null
          ? {}
          : { hint: keyRefOf(site, body.KeyId) }),
      };
    },
    checks: onKey('key', paths.decrypt, 'update'),
    run: async (call, body) => {
      refuseDryRun(body);
      const algorithm = encryptionAlgorithmOf(body.EncryptionAlgorithm);
      if (isRsaAlgorithm(algorithm)) {
        refuseContext(body.EncryptionContext);
        const ciphertext = blobField(body.CiphertextBlob, 'CiphertextBlob', 6144);
        const name = keyOf(call, 'key');
        const plaintext = await used(call, name, 'decrypt', async () => {
          const opened = await rsaDecrypt(call.deps, name, ciphertext, algorithm);
          return { result: opened.plaintext, version: opened.version };
        });
        return {
          KeyId: keyArnOf(call.deps.site, name),
          Plaintext: b64(plaintext),
          EncryptionAlgorithm: algorithm,
        };
      }
      const blob = parseBlob(blobField(body.CiphertextBlob, 'CiphertextBlob', 6144));
      const context = canonicalContext(body.EncryptionContext);
      assertHint(call, 'hint', blob.keyName);
      const plaintext = await used(call, blob.keyName, 'decrypt', async () => ({
        result: await openBlob(call.deps, blob, context),
        version: blob.version,
      }));
      return {
        KeyId: keyArnOf(call.deps.site, blob.keyName),
        Plaintext: b64(plaintext),
        EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
      };
    },
  },
  GenerateDataKey: generateDataKey(true),
  GenerateDataKeyWithoutPlaintext: generateDataKey(false),
  ReEncrypt: {
    refs: (body, site) => {
      // Before the blob is read: an RSA ciphertext is not a blob of this server's.
      checkEncryptionAlgorithm(body.SourceEncryptionAlgorithm, 'SourceEncryptionAlgorithm');
      checkEncryptionAlgorithm(
        body.DestinationEncryptionAlgorithm,
        'DestinationEncryptionAlgorithm',
      );
      return reEncryptRefs(body, site);
    },
    checks: (keys, body, site) => [
      ...onKey('source', paths.decrypt, 'update')(keys, body, site),
      ...onKey('destination', paths.encrypt, 'update')(keys, body, site),
    ],
    run: async (call, body) => {
      refuseDryRun(body);
      checkEncryptionAlgorithm(body.SourceEncryptionAlgorithm, 'SourceEncryptionAlgorithm');
      checkEncryptionAlgorithm(
        body.DestinationEncryptionAlgorithm,
        'DestinationEncryptionAlgorithm',
      );
      const blob = parseBlob(blobField(body.CiphertextBlob, 'CiphertextBlob', 6144));
      const from = canonicalContext(body.SourceEncryptionContext, 'SourceEncryptionContext');
      const to = canonicalContext(
        body.DestinationEncryptionContext,
        'DestinationEncryptionContext',
      );
      assertHint(call, 'hint', blob.keyName);
      const destination = keyOf(call, 'destination');
      const plaintext = await used(call, blob.keyName, 'decrypt', async () => ({
        result: await openBlob(call.deps, blob, from),
        version: blob.version,
      }));
      try {
        const { blob: out } = await used(call, destination, 'encrypt', async () => {
          const sealed = await sealUnder(call.deps, destination, plaintext, to);
          return { result: sealed, version: sealed.version };
        });
        return {
          CiphertextBlob: b64(out),
          SourceKeyId: keyArnOf(call.deps.site, blob.keyName),
          KeyId: keyArnOf(call.deps.site, destination),
          SourceEncryptionAlgorithm: ENCRYPTION_ALGORITHM,
          DestinationEncryptionAlgorithm: ENCRYPTION_ALGORITHM,
        };
      } finally {
        plaintext.fill(0);
      }
    },
  },
  EnableKeyRotation: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.config, 'update'),
    run: (call, body) =>
      setKeyRotation(
        call,
        keyOf(call, 'key'),
        kmsInt(body.RotationPeriodInDays, 'RotationPeriodInDays', 90, 2560) ?? 365,
      ),
  },
  DisableKeyRotation: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.config, 'update'),
    run: (call) => setKeyRotation(call, keyOf(call, 'key'), 0),
  },
  GetKeyRotationStatus: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.key, 'read'),
    run: (call) => getKeyRotationStatus(call, keyOf(call, 'key')),
  },
  GetPublicKey: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.key, 'read'),
    run: (call) => getPublicKey(call, keyOf(call, 'key')),
  },
  EnableKey: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.state, 'update'),
    run: (call) => setKeyEnabled(call, keyOf(call, 'key'), true),
  },
  DisableKey: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.state, 'update'),
    run: (call) => setKeyEnabled(call, keyOf(call, 'key'), false),
  },
  ScheduleKeyDeletion: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.state, 'update'),
    run: (call, body) =>
      scheduleKeyDeletion(
        call,
        keyOf(call, 'key'),
        kmsInt(body.PendingWindowInDays, 'PendingWindowInDays', 7, 30) ?? 30,
      ),
  },
  CancelKeyDeletion: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.state, 'update'),
    run: (call) => cancelKeyDeletion(call, keyOf(call, 'key')),
  },
  Sign: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.sign, 'update'),
    run: async (call, body) => {
      refuseDryRun(body);
      const { algorithm, message } = signingInput(body);
      const name = keyOf(call, 'key');
      const signature = await used(call, name, 'sign', async () => {
        const signed = await signMessage(call, name, message, algorithm);
        return { result: signed.signature, version: signed.version };
      });
      return {
        KeyId: keyArnOf(call.deps.site, name),
        Signature: b64(signature),
        SigningAlgorithm: algorithm,
      };
    },
  },
  Verify: {
    refs: keyRef('KeyId'),
    checks: onKey('key', paths.verify, 'update'),
    run: async (call, body) => {
      refuseDryRun(body);
      const { algorithm, message } = signingInput(body);
      const signature = blobField(body.Signature, 'Signature', 6144);
      const name = keyOf(call, 'key');
      await used(call, name, 'verify', async () => {
        const { version } = await verifyMessage(call, name, message, signature, algorithm);
        return { result: undefined, version };
      });
      return {
        KeyId: keyArnOf(call.deps.site, name),
        SignatureValid: true,
        SigningAlgorithm: algorithm,
      };
    },
  },
};

/** ReEncrypt's keys: the blob's, the destination, and `SourceKeyId` as a hint. */
function reEncryptRefs(body: Record<string, unknown>, site: KmsSite) {
  return {
    source: blobRef('CiphertextBlob')(body),
    destination: keyRefOf(site, body.DestinationKeyId, 'DestinationKeyId'),
    ...(body.SourceKeyId === undefined || body.SourceKeyId === null
      ? {}
      : { hint: keyRefOf(site, body.SourceKeyId, 'SourceKeyId') }),
  };
}

/** CreateAlias's and UpdateAlias's `TargetKeyId`: a key, never another alias. */
function targetRef(body: Record<string, unknown>, site: KmsSite): KeyRef {
  const ref = keyRefOf(site, body.TargetKeyId, 'TargetKeyId');
  if (ref.kind === 'alias')
    throw kmsValidation('TargetKeyId must be a key id or key ARN, not an alias');
  return ref;
}

/** A `KeyId` given beside a blob must name the key the blob was made with (IncorrectKeyException). */
function assertHint(call: KmsCall, role: KeyRole, blobKey: string): void {
  if (!Object.hasOwn(call.keys, role)) return;
  const named = call.keys[role];
  if (named === undefined) throw kmsNotFound('the alias names no key');
  if (named !== blobKey)
    throw new AwsError(
      'IncorrectKeyException',
      'The key ID in the request does not identify the key that encrypted the ciphertext.',
    );
}

/** CreateKey's `Tags`: `[{ TagKey, TagValue }]`, at most 50. */
function tagsOf(value: unknown) {
  if (!Array.isArray(value) || value.length > 50)
    throw kmsValidation('Tags must be a list of at most 50 tags');
  return value.map((tag) => {
    const t = (typeof tag === 'object' && tag !== null ? tag : {}) as Record<string, unknown>;
    const key = kmsString(t.TagKey, 'TagKey', 128);
    if (key === undefined || key.length === 0) throw kmsValidation('TagKey is required');
    return { TagKey: key, TagValue: kmsString(t.TagValue, 'TagValue', 256) ?? '' };
  });
}
