/**
 * Contract tests of the Cloud KMS provider: the official client against a local HTTPS server
 * that speaks Cloud KMS's REST shapes and checks each request (@custos/test-support/cloud-kms).
 *
 * Against the real service: set CUSTOS_CONTRACT_GCP_KEY_NAME to a symmetric CryptoKey's full
 * name, with Application Default Credentials allowed to use it. The tests that need to rotate,
 * disable or destroy versions, or count requests, only run against the fake.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type FakeGcpKms, gcpTestAuth, startFakeGcpKms } from '@custos/test-support/cloud-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../../errors/index.js';
import { createCachingKms } from '../../fields/caching-kms.js';
import { createFieldCipher, type FieldKms } from '../../fields/index.js';
import { decryptIterable, encryptIterable, kmsIdentity, kmsRecipient } from '../../stream/index.js';
import { type GcpKms, type GcpKmsOptions, openGcpKms } from './gcp-kms.js';

const REAL_KEY = process.env.CUSTOS_CONTRACT_GCP_KEY_NAME;
const KEY_NAME =
  REAL_KEY ?? 'projects/custos-test/locations/europe-west1/keyRings/app/cryptoKeys/fields';

let fake: FakeGcpKms | undefined;
const opened: GcpKms[] = [];

beforeAll(async () => {
  if (REAL_KEY === undefined) fake = await startFakeGcpKms(KEY_NAME);
});
afterAll(async () => {
  await Promise.all(opened.map((kms) => kms.close()));
  await fake?.close();
});

/** Tests that rotate, disable, present a wrong token or read requests: the fake only. */
const fakeOnly = it.skipIf(REAL_KEY !== undefined);

function theFake(): FakeGcpKms {
  if (fake === undefined) throw new Error('this test needs the local fake');
  return fake;
}

async function open(extra: Partial<GcpKmsOptions> & { token?: string } = {}): Promise<GcpKms> {
  const { token, ...rest } = extra;
  const options: GcpKmsOptions =
    fake === undefined
      ? { keyName: KEY_NAME, ...rest }
      : {
          keyName: KEY_NAME,
          apiEndpoint: '127.0.0.1',
          port: fake.server.port,
          authClient: gcpTestAuth(fake.server, token ?? fake.token),
          ...rest,
        };
  const kms = await openGcpKms(options);
  opened.push(kms);
  return kms;
}

const PROVIDER = 'gcp';

async function* once(bytes: Buffer) {
  yield bytes;
}

/** A backup to this KMS (with the KMS stanza), and the plaintext it holds. */
async function kmsBackup(kms: FieldKms) {
  const plain = randomBytes(100_000);
  const parts: Buffer[] = [];
  for await (const piece of encryptIterable(once(plain), {
    recipients: [kmsRecipient(kms, PROVIDER)],
  }))
    parts.push(piece);
  return { plain, sealed: Buffer.concat(parts) };
}
/**
 * The wrapped data key of the KMS stanza in a backup: the stanza holds it after its 2-byte length
 * and right before the wrapped file key, whose random bytes a pattern would often read on into.
 */
function wrappedDataKeyIn(sealed: Buffer, prefix: string): string {
  const at = sealed.indexOf(prefix, 0, 'latin1');
  if (at < 2) throw new Error(`no ${prefix} wrapped data key in the backup`);
  return sealed.toString('latin1', at, at + sealed.readUInt16BE(at - 2));
}
async function decryptBackup(sealed: Buffer, kms: FieldKms) {
  const parts: Buffer[] = [];
  for await (const piece of decryptIterable(once(sealed), {
    identities: [kmsIdentity(PROVIDER, kms)],
  }))
    parts.push(piece);
  return Buffer.concat(parts);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('Google Cloud KMS provider (contract)', () => {
  it('round trip: wraps a data key with encrypt and unwraps it with decrypt', async () => {
    const kms = await open();
    const { plaintext, wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    expect(plaintext).toHaveLength(32);
    expect(wrapped).toMatch(/^gcpkms:v[0-9]+:[A-Za-z0-9_-]+$/);
    const unwrapped = await kms.unwrapDataKey(wrapped, { tenantId: 'acme' });
    expect(Buffer.from(unwrapped).equals(Buffer.from(plaintext))).toBe(true);
    expect(kms.describeWrappedKey(wrapped)).toEqual(await kms.currentKey());
  });

  it('holds a backup file key (KMS stanza); a field context does not open its data key', async () => {
    const kms = await open();
    const { plain, sealed } = await kmsBackup(kms);
    expect(await decryptBackup(sealed, kms)).toEqual(plain);
    const wrapped = wrappedDataKeyIn(sealed, 'gcpkms:');
    expect((await failure(kms.unwrapDataKey(wrapped, {}))) as { code?: string }).toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
  });

  fakeOnly(
    'sends what the REST API documents: path, bearer token, base64 fields, AAD',
    async () => {
      const server = theFake();
      const kms = await open();
      const before = server.server.requests.length;
      const { plaintext } = await kms.generateDataKey({ tenantId: 7 });
      const [request] = server.server.requests.slice(before);
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe(`/v1/${KEY_NAME}:encrypt`);
      expect(request?.headers.authorization).toBe(`Bearer ${server.token}`);
      const body = JSON.parse(request?.body ?? '{}') as Record<string, string>;
      expect(Buffer.from(body.plaintext as string, 'base64').equals(Buffer.from(plaintext))).toBe(
        true,
      );
      const aad = Buffer.from(body.additionalAuthenticatedData as string, 'base64');
      expect(aad.toString('utf8')).toContain('field-data-key');
      expect(aad.toString('utf8')).toContain('7');
    },
  );

  it('wraps a key the caller holds (wrapKey), bound to a seal cluster: only that cluster opens it', async () => {
    const provider = await open();
    const rootKey = randomBytes(32);
    const cluster = randomUUID();
    const wrapped = await provider.wrapKey(rootKey, { sealClusterId: cluster });
    const opened = await provider.unwrapDataKey(wrapped, { sealClusterId: cluster });
    expect(Buffer.from(opened).equals(rootKey)).toBe(true);
    expect(provider.describeWrappedKey(wrapped)).toEqual(await provider.currentKey());
    for (const other of [{ sealClusterId: randomUUID() }, {}, { tenantId: cluster }]) {
      expect(
        (await failure(provider.unwrapDataKey(wrapped, other))) as { code?: string },
      ).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    }
    for (const bad of [randomBytes(31), randomBytes(33)]) {
      expect(
        (await failure(provider.wrapKey(bad, { sealClusterId: cluster }))) as { code?: string },
      ).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(
      (await failure(provider.wrapKey(rootKey, { sealClusterId: 'NOT-A-UUID' }))) as {
        code?: string;
      },
    ).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('binds the tenant: another context cannot unwrap (AAD checked by the service)', async () => {
    const kms = await open();
    const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    const err = await failure(kms.unwrapDataKey(wrapped, { tenantId: 'globex' }));
    expect(isCustosError(err, 'ERR_DECRYPTION_FAILED')).toBe(true);
    const none = await failure(kms.unwrapDataKey(wrapped, {}));
    expect(isCustosError(none, 'ERR_DECRYPTION_FAILED')).toBe(true);
  });

  fakeOnly(
    'follows rotation: the new primary wraps, data wrapped before still unwraps',
    async () => {
      const server = theFake();
      const kms = await open();
      const fc = createFieldCipher({ kms: createCachingKms(kms) });
      const context = { table: 'users', column: 'ssn', tenantId: 'acme' };
      const old = await fc.encrypt('123-45-6789', context);
      const before = await kms.currentKey();
      const version = server.rotate();
      expect(await kms.currentKey()).toEqual({ keyId: KEY_NAME, keyVersion: version });
      expect(version).toBeGreaterThan(before.keyVersion);
      const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
      expect(kms.describeWrappedKey(wrapped).keyVersion).toBe(version);
      expect(await fc.decrypt(old, context)).toBe('123-45-6789');
      const moved = await fc.reencrypt(old, context);
      expect((await fc.describe(moved)).keyVersion).toBe(version);
      expect((await fc.describe(old)).current).toBe(false);
      expect(await fc.decrypt(moved, context)).toBe('123-45-6789');
    },
  );

  fakeOnly('refuses a disabled or destroyed version with ERR_KEY_DISABLED', async () => {
    const server = theFake();
    const kms = await open();
    const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    const { keyVersion } = kms.describeWrappedKey(wrapped);
    server.setState(keyVersion, 'DISABLED');
    const disabled = await failure(kms.unwrapDataKey(wrapped, { tenantId: 'acme' }));
    expect(isCustosError(disabled, 'ERR_KEY_DISABLED')).toBe(true);
    // The primary is disabled too: no new data keys.
    const encrypting = await failure(kms.generateDataKey({ tenantId: 'acme' }));
    expect(isCustosError(encrypting, 'ERR_KEY_DISABLED')).toBe(true);
    server.setState(keyVersion, 'DESTROYED');
    const destroyed = await failure(kms.unwrapDataKey(wrapped, { tenantId: 'acme' }));
    expect(isCustosError(destroyed, 'ERR_KEY_DISABLED')).toBe(true);
    server.rotate();
  });

  fakeOnly('maps refused credentials to ERR_KMS_LOGIN_FAILED', async () => {
    theFake();
    const kms = await open({ token: `wrong-${randomBytes(8).toString('hex')}` });
    const err = await failure(kms.generateDataKey({ tenantId: 'acme' }));
    expect(isCustosError(err, 'ERR_KMS_LOGIN_FAILED')).toBe(true);
  });

  fakeOnly('maps a key that does not exist to ERR_KEY_NOT_FOUND', async () => {
    theFake();
    const kms = await open({
      keyName: 'projects/custos-test/locations/europe-west1/keyRings/app/cryptoKeys/missing',
    });
    const err = await failure(kms.currentKey());
    expect(isCustosError(err, 'ERR_KEY_NOT_FOUND')).toBe(true);
  });

  fakeOnly('never puts the data key or the token in an error message (canary)', async () => {
    const server = theFake();
    const kms = await open();
    server.setState(server.rotate(), 'DISABLED');
    const before = server.calls('encrypt').length;
    const err = await failure(kms.generateDataKey({ tenantId: 'acme' }));
    const sent = server.calls('encrypt').slice(before)[0]?.plaintext as string;
    // The fake quotes the request body in its message, as a careless service might.
    expect(sent).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const text = `${err.message} ${String(err.stack)} ${JSON.stringify(err)}`;
    for (const canary of [
      sent,
      Buffer.from(sent, 'base64').toString('hex'),
      Buffer.from(sent, 'base64').toString('base64url'),
      server.token,
    ]) {
      expect(text).not.toContain(canary);
    }
    expect((err as { cause?: unknown }).cause).toBeUndefined();
    server.rotate();
  });

  it('refuses key names that could change the REST path', async () => {
    for (const keyName of [
      'projects/p/locations/l/keyRings/r/cryptoKeys/k:decrypt',
      'projects/p/locations/l/keyRings/r/cryptoKeys/k?x=1',
      'projects/p/locations/l/keyRings/r/cryptoKeys/k#',
      'projects/../locations/l/keyRings/r/cryptoKeys/k',
      'projects/p/locations/l/keyRings/r/cryptoKeys/%2e%2e',
      'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
    ]) {
      const err = await failure(openGcpKms({ keyName }));
      expect(isCustosError(err, 'ERR_INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('refuses malformed wrapped keys before calling the service', async () => {
    const kms = await open();
    for (const bad of ['', 'gcpkms:v0:AAAA', 'gcpkms:v1:', 'pkcs11:v1:AAAA', 'gcpkms:v1:a b']) {
      const err = await failure(kms.unwrapDataKey(bad, {}));
      expect(isCustosError(err, 'ERR_MALFORMED_CIPHERTEXT')).toBe(true);
    }
  });
});
