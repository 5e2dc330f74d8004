/**
 * Contract tests of the Azure Key Vault provider: the official client against a local HTTPS
 * server that speaks Key Vault's keys REST API and checks each request
 * (@custos/test-support/cloud-kms), for an RSA key and a Managed HSM AES key.
 *
 * Against the real service: set CUSTOS_CONTRACT_AZURE_VAULT_URL and
 * CUSTOS_CONTRACT_AZURE_KEY_NAME (an RSA key, or an AES key on a Managed HSM), with credentials
 * DefaultAzureCredential finds (AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, a
 * managed identity, `az login`). The tests that rotate or disable versions, or look at
 * requests, only run against the fake.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type FakeKeyVault,
  KEY_VAULT_RESOURCE,
  startFakeKeyVault,
} from '@custos/test-support/cloud-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../../errors/index.js';
import { createCachingKms } from '../../fields/caching-kms.js';
import { createFieldCipher, type FieldKms } from '../../fields/index.js';
import { decryptIterable, encryptIterable, kmsIdentity, kmsRecipient } from '../../stream/index.js';
import {
  type AzureKeyVaultKms,
  type AzureKeyVaultKmsOptions,
  type AzureTokenCredential,
  openAzureKeyVaultKms,
} from './azure-key-vault-kms.js';

const REAL_URL = process.env.CUSTOS_CONTRACT_AZURE_VAULT_URL;
const REAL_KEY = process.env.CUSTOS_CONTRACT_AZURE_KEY_NAME;
const real = REAL_URL !== undefined && REAL_KEY !== undefined;

let fake: FakeKeyVault | undefined;
const opened: AzureKeyVaultKms[] = [];

beforeAll(async () => {
  if (!real) fake = await startFakeKeyVault({ 'rsa-fields': 'RSA-HSM', 'aes-fields': 'oct-HSM' });
});
afterAll(async () => {
  await Promise.all(opened.map((kms) => kms.close()));
  await fake?.close();
});

/** Tests that rotate, disable, present a wrong token or read requests: the fake only. */
const fakeOnly = it.skipIf(real);

function theFake(): FakeKeyVault {
  if (fake === undefined) throw new Error('this test needs the local fake');
  return fake;
}

/** A TokenCredential that hands out a fixed token and records what was asked of it. */
function testCredential(token: string) {
  const asked: { scopes: string[]; tenantId?: string }[] = [];
  const credential: AzureTokenCredential = {
    async getToken(scopes, options) {
      asked.push({
        scopes: typeof scopes === 'string' ? [scopes] : [...scopes],
        ...((options as { tenantId?: string } | undefined)?.tenantId === undefined
          ? {}
          : { tenantId: (options as { tenantId: string }).tenantId }),
      });
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return { credential, asked };
}

const PROVIDER = 'azure';

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

describe.each([
  ['an RSA key (RSA-OAEP-256)', 'rsa-fields', 'RSA-OAEP-256'],
  ['a Managed HSM AES key (A256KW)', 'aes-fields', 'A256KW'],
])('Azure Key Vault provider with %s (contract)', (_label, fakeKeyName, algorithm) => {
  const keyName = real ? (REAL_KEY as string) : fakeKeyName;

  async function open(extra: Partial<AzureKeyVaultKmsOptions> & { token?: string } = {}) {
    const { token, ...rest } = extra;
    const test = fake === undefined ? undefined : testCredential(token ?? fake.token);
    const options: AzureKeyVaultKmsOptions =
      fake === undefined
        ? { vaultUrl: REAL_URL as string, keyName, ...rest }
        : {
            vaultUrl: fake.vaultUrl,
            keyName,
            credential: test?.credential as AzureTokenCredential,
            agent: fake.server.agent,
            disableChallengeResourceVerification: true,
            ...rest,
          };
    const kms = await openAzureKeyVaultKms(options);
    opened.push(kms);
    return { kms, asked: test?.asked ?? [] };
  }

  it('round trip: a data key wrapped by wrapKey unwraps with unwrapKey', async () => {
    const { kms } = await open();
    const { plaintext, wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    expect(plaintext).toHaveLength(32);
    expect(wrapped.startsWith('azkv:')).toBe(true);
    expect(wrapped.split(':')[3]).toBe(real ? wrapped.split(':')[3] : algorithm);
    const unwrapped = await kms.unwrapDataKey(wrapped, { tenantId: 'acme' });
    expect(Buffer.from(unwrapped).equals(Buffer.from(plaintext))).toBe(true);
    expect(kms.describeWrappedKey(wrapped)).toEqual(await kms.currentKey());
  });

  it('holds a backup file key (KMS stanza); a field context does not open its data key', async () => {
    const { kms } = await open();
    const { plain, sealed } = await kmsBackup(kms);
    expect(await decryptBackup(sealed, kms)).toEqual(plain);
    const wrapped = wrappedDataKeyIn(sealed, 'azkv:');
    expect((await failure(kms.unwrapDataKey(wrapped, {}))) as { code?: string }).toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
  });

  fakeOnly('runs the bearer challenge and sends the documented bodies', async () => {
    const server = theFake();
    const { kms, asked } = await open();
    const before = server.server.requests.length;
    const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    const seen = server.server.requests.slice(before);
    // Each client starts with the challenge: a request without token or body, answered 401,
    // then the same request again with the token for the resource the challenge named.
    expect(seen[0]?.headers.authorization).toBeUndefined();
    seen.forEach((request, i) => {
      if (request.headers.authorization === undefined) {
        expect(request.body).toBe('');
        expect(seen[i + 1]?.path).toBe(request.path);
        expect(seen[i + 1]?.headers.authorization).toBe(`Bearer ${server.token}`);
      } else {
        expect(request.headers.authorization).toBe(`Bearer ${server.token}`);
      }
    });
    for (const request of seen) expect(request.query.get('api-version')).toMatch(/^[0-9]/);
    expect(asked[0]).toEqual({
      scopes: [`${KEY_VAULT_RESOURCE}/.default`],
      tenantId: server.tenantId,
    });
    const wrap = seen.filter((r) => r.path.endsWith('/wrapkey') && r.body !== '').at(-1);
    expect(wrap?.method).toBe('POST');
    expect(wrap?.path).toMatch(new RegExp(`^/keys/${keyName}/[0-9a-f]{32}/wrapkey$`));
    const body = JSON.parse(wrap?.body ?? '{}') as { alg: string; value: string };
    expect(body.alg).toBe(algorithm);
    expect(body.value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(body.value, 'base64url')).toHaveLength(32);
    // The key version that wrapped is the one in the path.
    expect(wrap?.path.split('/')[3]).toBe(wrapped.split(':')[2]);
  });

  it('wraps a key the caller holds (wrapKey), bound to a seal cluster: only that cluster opens it', async () => {
    const provider = (await open()).kms;
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

  it('binds the tenant: another context cannot unwrap', async () => {
    const { kms } = await open();
    const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    const other = await failure(kms.unwrapDataKey(wrapped, { tenantId: 'globex' }));
    expect(isCustosError(other, 'ERR_DECRYPTION_FAILED')).toBe(true);
    const none = await failure(kms.unwrapDataKey(wrapped, {}));
    expect(isCustosError(none, 'ERR_DECRYPTION_FAILED')).toBe(true);
    // The version recorded is authenticated too: a changed creation time does not open.
    const parts = wrapped.split(':');
    parts[1] = String(Number(parts[1]) + 1);
    const moved = await failure(kms.unwrapDataKey(parts.join(':'), { tenantId: 'acme' }));
    expect(isCustosError(moved, 'ERR_DECRYPTION_FAILED')).toBe(true);
  });

  fakeOnly(
    'follows rotation: the new version wraps, data wrapped before still unwraps',
    async () => {
      const server = theFake();
      const { kms } = await open({ keyRefreshSeconds: 0 });
      const fc = createFieldCipher({ kms: createCachingKms(kms) });
      const context = { table: 'users', column: 'ssn', tenantId: 'acme' };
      const old = await fc.encrypt('123-45-6789', context);
      const { wrapped: before } = await kms.generateDataKey({ tenantId: 'acme' });
      const newVersion = server.rotate(keyName);
      const current = await kms.currentKey();
      expect(current.keyVersion).toBeGreaterThan(kms.describeWrappedKey(before).keyVersion);
      const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
      expect(wrapped.split(':')[2]).toBe(newVersion);
      expect(kms.describeWrappedKey(wrapped)).toEqual(current);
      expect(await fc.decrypt(old, context)).toBe('123-45-6789');
      expect((await fc.describe(old)).current).toBe(false);
      const moved = await fc.reencrypt(old, context);
      expect((await fc.describe(moved)).current).toBe(true);
      expect(await fc.decrypt(moved, context)).toBe('123-45-6789');
    },
  );

  fakeOnly(
    'refuses a disabled version with ERR_KEY_DISABLED (unwrap by Key Vault, wrap by custos)',
    async () => {
      const server = theFake();
      const { kms } = await open({ keyRefreshSeconds: 0 });
      const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
      const version = wrapped.split(':')[2] as string;
      server.setEnabled(keyName, version, false);
      const unwrapping = await failure(kms.unwrapDataKey(wrapped, { tenantId: 'acme' }));
      expect(isCustosError(unwrapping, 'ERR_KEY_DISABLED')).toBe(true);
      // Key Vault would still wrap with a disabled version: the provider refuses first.
      const wrapsBefore = server.server.requests.filter((r) => r.path.endsWith('/wrapkey')).length;
      const wrapping = await failure(kms.generateDataKey({ tenantId: 'acme' }));
      expect(isCustosError(wrapping, 'ERR_KEY_DISABLED')).toBe(true);
      expect(server.server.requests.filter((r) => r.path.endsWith('/wrapkey'))).toHaveLength(
        wrapsBefore,
      );
      server.setEnabled(keyName, version, true);
      expect(await kms.unwrapDataKey(wrapped, { tenantId: 'acme' })).toHaveLength(32);
    },
  );

  fakeOnly(
    'maps a refused token to ERR_KMS_LOGIN_FAILED and a missing key to ERR_KEY_NOT_FOUND',
    async () => {
      theFake();
      const { kms } = await open({ token: 'not-the-token' });
      const login = await failure(kms.generateDataKey({ tenantId: 'acme' }));
      expect(isCustosError(login, 'ERR_KMS_LOGIN_FAILED')).toBe(true);
      const { kms: missing } = await open({ keyName: 'no-such-key' });
      const notFound = await failure(missing.currentKey());
      expect(isCustosError(notFound, 'ERR_KEY_NOT_FOUND')).toBe(true);
    },
  );

  fakeOnly('never puts a key or the token in an error message (canary)', async () => {
    const server = theFake();
    const { kms } = await open();
    const { wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    const wrapBody = server.server.requests.filter((r) => r.path.endsWith('/wrapkey')).at(-1);
    const kek = (JSON.parse(wrapBody?.body ?? '{}') as { value: string }).value;
    // A damaged wrapped key: the fake's error quotes the request, as a careless service might.
    const parts = wrapped.split(':');
    const damaged = Buffer.from(parts[4] as string, 'base64url');
    damaged[0] = (damaged[0] as number) ^ 1;
    parts[4] = damaged.toString('base64url');
    const err = await failure(kms.unwrapDataKey(parts.join(':'), { tenantId: 'acme' }));
    expect(isCustosError(err, 'ERR_DECRYPTION_FAILED')).toBe(true);
    const lastBody = server.server.requests.at(-1)?.body ?? '';
    expect(lastBody).toContain(parts[4]);
    const text = `${err.message} ${String(err.stack)} ${JSON.stringify(err)}`;
    for (const canary of [
      kek,
      Buffer.from(kek, 'base64url').toString('hex'),
      server.token,
      parts[4],
    ]) {
      expect(text).not.toContain(canary);
    }
    expect((err as { cause?: unknown }).cause).toBeUndefined();
  });

  fakeOnly(
    'gets its token with a ClientSecretCredential from the token endpoint; a wrong secret is ERR_KMS_LOGIN_FAILED without the secret',
    async () => {
      const server = theFake();
      const { ClientSecretCredential } = await import('@azure/identity');
      const credentialFor = (secret: string) =>
        new ClientSecretCredential(server.tenantId, server.clientId, secret, {
          authorityHost: server.vaultUrl,
          disableInstanceDiscovery: true,
          agent: server.server.agent,
          retryOptions: { maxRetries: 0 },
        });
      const { kms } = await open({ credential: credentialFor(server.clientSecret) });
      const before = server.server.requests.length;
      const { plaintext, wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
      expect(
        Buffer.from(await kms.unwrapDataKey(wrapped, { tenantId: 'acme' })).equals(
          Buffer.from(plaintext),
        ),
      ).toBe(true);
      const tokenRequest = server.server.requests
        .slice(before)
        .find((r) => r.path === `/${server.tenantId}/oauth2/v2.0/token`);
      expect(new URLSearchParams(tokenRequest?.body).get('scope')).toBe(
        `${KEY_VAULT_RESOURCE}/.default`,
      );

      const wrong = `wrong-${server.clientSecret.slice(0, 6)}-canary`;
      const { kms: refused } = await open({ credential: credentialFor(wrong) });
      const err = await failure(refused.generateDataKey({ tenantId: 'acme' }));
      expect(isCustosError(err, 'ERR_KMS_LOGIN_FAILED')).toBe(true);
      const text = `${err.message} ${String(err.stack)} ${JSON.stringify(err)}`;
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(server.clientSecret);
    },
  );

  it('refuses malformed wrapped keys before calling the service', async () => {
    const { kms } = await open();
    for (const bad of [
      '',
      'azkv:1:abc:A256KW:AAAA:',
      'azkv:1:abc:RSA1_5:AAAA:AAAA',
      'gcpkms:v1:AAAA',
    ]) {
      const err = await failure(kms.unwrapDataKey(bad, {}));
      expect(isCustosError(err, 'ERR_MALFORMED_CIPHERTEXT')).toBe(true);
    }
  });
});
