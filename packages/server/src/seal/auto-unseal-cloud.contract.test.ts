import { randomBytes, randomUUID } from 'node:crypto';
import {
  type FakeGcpKms,
  type FakeKeyVault,
  gcpTestAuth,
  startFakeGcpKms,
  startFakeKeyVault,
} from '@custos/test-support/cloud-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, send, type TestStorage } from '../../test/harness.js';
import { generateRootWith, shamirSealRoundTrip, startSealedServer } from '../../test/seal.js';
import { until } from '../../test/until.js';
import type { RunningServer } from '../server.js';
import { createRootKeyWrapper, type SealClients, type SealStanza } from './seal-stanza.js';

/** One cloud seal against its local contract stand-in. */
interface CloudCase {
  readonly type: 'azurekeyvault' | 'gcpckms';
  /** The stanza as an operator writes it, the clients pointing it at the stand-in. */
  readonly stanza: SealStanza;
  readonly clients: SealClients;
  /** Words the failure message names the key by. */
  readonly keyNamed: string;
  /** Adds a key version and makes it current. */
  rotate(): void;
  /** Disables (or enables again) the version current at start. */
  setFirstEnabled(enabled: boolean): void;
  close(): Promise<void>;
}

async function azureCase(): Promise<CloudCase> {
  const fake: FakeKeyVault = await startFakeKeyVault({ 'custos-seal': 'RSA-HSM' });
  const first = fake.rotate('custos-seal');
  return {
    type: 'azurekeyvault',
    stanza: { type: 'azurekeyvault', vault_name: 'acme-seal', key_name: 'custos-seal' },
    clients: {
      azure: {
        vaultUrl: fake.vaultUrl,
        credential: {
          getToken: async () => ({ token: fake.token, expiresOnTimestamp: Date.now() + 3_600_000 }),
        },
        agent: fake.server.agent,
        disableChallengeResourceVerification: true,
      },
    },
    keyNamed: `azurekeyvault seal key ${new URL(fake.vaultUrl).origin}/keys/custos-seal`,
    rotate: () => void fake.rotate('custos-seal'),
    setFirstEnabled: (enabled) => fake.setEnabled('custos-seal', first, enabled),
    close: () => fake.close(),
  };
}

async function gcpCase(): Promise<CloudCase> {
  const keyName = 'projects/acme-vault/locations/global/keyRings/custos/cryptoKeys/seal';
  const fake: FakeGcpKms = await startFakeGcpKms(keyName);
  return {
    type: 'gcpckms',
    stanza: {
      type: 'gcpckms',
      project: 'acme-vault',
      region: 'global',
      key_ring: 'custos',
      crypto_key: 'seal',
    },
    clients: {
      gcp: {
        authClient: gcpTestAuth(fake.server, fake.token),
        apiEndpoint: '127.0.0.1',
        port: fake.server.port,
      },
    },
    keyNamed: `gcpckms seal key ${keyName}`,
    rotate: () => void fake.rotate(),
    setFirstEnabled: (enabled) => fake.setState(1, enabled ? 'ENABLED' : 'DISABLED'),
    close: () => fake.close(),
  };
}

/**
 * The Azure Key Vault and Cloud KMS seals against the local contract stand-ins (real RSA-OAEP,
 * AES-GCM with the AAD checked): init gives recovery keys, a restart unseals itself, a disabled
 * key version keeps the server sealed with a typed error naming the key, a rotated key still
 * unwraps, a root key of another cluster is refused, and Shamir migrates to the seal and back.
 */
describe.each([
  ['azurekeyvault', azureCase],
  ['gcpckms', gcpCase],
])('%s auto-unseal (contract)', (_name, makeCase) => {
  let cloud: CloudCase;
  let storage: TestStorage;
  let node: RunningServer | undefined;
  const logs: string[] = [];
  let rootToken: string;
  let recoveryKeys: string[];

  const options = (extra: Record<string, unknown> = {}) => ({
    seal: { ...cloud.stanza, ...extra } as SealStanza,
    sealClients: cloud.clients,
    env: {},
    logLevel: 'info' as const,
    logDestination: { write: (line: string) => void logs.push(line) },
    autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
  });
  const restart = async () => {
    await node?.close();
    logs.length = 0;
    node = await startSealedServer(storage.location, options());
  };
  const status = async () =>
    (await send((node as RunningServer).url, 'GET', 'sys/seal-status')).body;
  const failures = () =>
    logs
      .map((line) => JSON.parse(line) as { msg: string; code?: string })
      .filter((m) => m.msg.includes('auto-unseal failed'));

  beforeAll(async () => {
    cloud = await makeCase();
    storage = await createTestStorage('sqlite');
    node = await startSealedServer(storage.location, options());
  });
  afterAll(async () => {
    await node?.close();
    await storage?.cleanup();
    await cloud?.close();
  });

  it('gives recovery keys at init and unseals itself after a restart', async () => {
    expect(await status()).toMatchObject({ type: cloud.type, recovery_seal: true });
    const init = await send((node as RunningServer).url, 'POST', 'sys/init', {
      body: { recovery_shares: 3, recovery_threshold: 2 },
    });
    expect(init.status).toBe(200);
    recoveryKeys = init.body.recovery_keys;
    rootToken = init.body.root_token;
    await send((node as RunningServer).url, 'POST', 'secret/data/app', {
      token: rootToken,
      body: { data: { value: `kept behind ${cloud.type}` } },
    });
    await restart();
    await until(async () => (await status()).sealed === false, 'the auto-unseal');
    expect(logs.join('\n')).toContain(`unsealed by the ${cloud.keyNamed}`);
    const read = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
      token: rootToken,
    });
    expect(read.body.data.data.value).toBe(`kept behind ${cloud.type}`);
    expect(
      (await generateRootWith((node as RunningServer).url, recoveryKeys.slice(1))).body.complete,
    ).toBe(true);
  });

  it('stays sealed while the wrapping key version is disabled, naming the key; unseals once enabled', async () => {
    cloud.setFirstEnabled(false);
    try {
      await restart();
      await until(async () => failures().length >= 2, 'a failure and a retry');
      expect((await status()).sealed).toBe(true);
      const failure = failures()[0] as { msg: string; code?: string };
      expect(failure.code).toBe('ERR_SEAL_UNAVAILABLE');
      expect(failure.msg).toContain(cloud.keyNamed);
      expect(failure.msg).toContain('ERR_KEY_DISABLED');
    } finally {
      cloud.setFirstEnabled(true);
    }
    await until(async () => (await status()).sealed === false, 'the auto-unseal once enabled');
  });

  it('unseals after a rotation (the stored root key names its version)', async () => {
    cloud.rotate();
    await restart();
    await until(async () => (await status()).sealed === false, 'the auto-unseal after rotation');
  });

  it("binds the wrap to the cluster: another cluster's id does not unwrap it", async () => {
    const wrapper = createRootKeyWrapper(cloud.stanza, {}, cloud.clients);
    try {
      const rootKey = randomBytes(32);
      const clusterId = randomUUID();
      const wrapped = await wrapper.wrap(rootKey, { clusterId });
      expect(wrapped.type).toBe(cloud.type);
      expect((await wrapper.unwrap(wrapped, { clusterId })).equals(rootKey)).toBe(true);
      await expect(wrapper.unwrap(wrapped, { clusterId: randomUUID() })).rejects.toMatchObject({
        code: 'ERR_SEAL_UNAVAILABLE',
        message: expect.stringContaining('ERR_DECRYPTION_FAILED'),
      });
      await expect(
        wrapper.unwrap({ ...wrapped, keyId: `${wrapped.keyId}-other` }, { clusterId }),
      ).rejects.toMatchObject({
        code: 'ERR_SEAL_UNAVAILABLE',
        message: expect.stringContaining('was wrapped by'),
      });
    } finally {
      await wrapper.close?.();
    }
  });

  it(`migrates Shamir -> ${_name} -> Shamir: data written before is read after`, async () => {
    await shamirSealRoundTrip(cloud.type, (phase) =>
      options(phase === 'back' ? { disabled: true } : {}),
    );
  });
});
