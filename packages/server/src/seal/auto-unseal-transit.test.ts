import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import {
  generateRootWith,
  initOverHttp,
  initWithRecoveryKeys,
  rekeyRecoveryWith,
  startSealedServer,
  unsealOverHttp,
} from '../../test/seal.js';
import { until } from '../../test/until.js';
import type { RunningServer } from '../server.js';
import { decodeRootToken } from './root-token-otp.js';

/** A port free now, so the seal server can be stopped and started again at the same address. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Auto-unseal with the transit seal: server B keeps its root key wrapped by a transit key of a
 * second custos server (the seal server), unseals itself at start and retries while the seal
 * server is down.
 */
describe.each(await storageKinds())('transit auto-unseal on %s', (kind) => {
  /** The storage of the test's node (each test has its own: any may run alone). */
  let storage: TestStorage;
  const storages: TestStorage[] = [];
  let sealDir: string;
  let sealPort: number;
  let sealServer: RunningServer | undefined;
  let sealKeys: { keys: string[]; rootToken: string };
  let node: RunningServer | undefined;
  const logs: string[] = [];

  const startSealServer = async () => {
    sealServer = await startSealedServer(join(sealDir, 'seal.db'), { port: sealPort });
    expect((await unsealOverHttp(sealServer, sealKeys.keys)).body.sealed).toBe(false);
  };
  const startNode = () =>
    startSealedServer(storage.location, {
      seal: {
        type: 'transit',
        address: `http://127.0.0.1:${sealPort}`,
        key_name: 'custos-seal',
        mount_path: 'transit/',
        timeout_ms: 1000,
      },
      env: { CUSTOS_SEAL_TOKEN: sealKeys.rootToken },
      logLevel: 'info',
      logDestination: { write: (line) => void logs.push(line) },
      autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
    });
  const status = async () =>
    (await send((node as RunningServer).url, 'GET', 'sys/seal-status')).body;

  /** A node on storage of its own, not initialised. */
  const freshNode = async () => {
    storage = await createTestStorage(kind);
    storages.push(storage);
    logs.length = 0;
    node = await startNode();
    return node;
  };
  /** {@link freshNode} initialised (three recovery shares, threshold two), holding `secret/app`. */
  const initialisedNode = async () => {
    const url = (await freshNode()).url;
    return { url, ...(await initWithRecoveryKeys(url, 'written before restart')) };
  };

  beforeAll(async () => {
    sealDir = await mkdtemp(join(tmpdir(), 'custos-seal-'));
    sealPort = await freePort();
    sealServer = await startSealedServer(join(sealDir, 'seal.db'), { port: sealPort });
    sealKeys = await initOverHttp(sealServer);
    expect((await unsealOverHttp(sealServer, sealKeys.keys)).body.sealed).toBe(false);
    const created = await send(sealServer.url, 'POST', 'transit/keys/custos-seal', {
      token: sealKeys.rootToken,
    });
    expect(created.status).toBe(200);
  });
  afterEach(async () => {
    await node?.close();
    node = undefined;
    for (const used of storages.splice(0)) await used.cleanup();
    // A test that stopped the seal server and failed before starting it again.
    if (sealServer === undefined) await startSealServer();
  });
  afterAll(async () => {
    await sealServer?.close();
    await rm(sealDir, { recursive: true, force: true });
  });

  it('reports the transit seal before init and gives recovery keys at init', async () => {
    await freshNode();
    const before = await status();
    expect(before).toMatchObject({ type: 'transit', recovery_seal: true, initialized: false });
    const wrongPair = await send((node as RunningServer).url, 'POST', 'sys/init', {
      body: { secret_shares: 3, secret_threshold: 2 },
    });
    expect(wrongPair.status).toBe(400);
    expect(wrongPair.body.errors[0]).toContain('recovery_shares');
    const init = await send((node as RunningServer).url, 'POST', 'sys/init', {
      body: { recovery_shares: 3, recovery_threshold: 2 },
    });
    expect(init.status).toBe(200);
    expect(init.body.keys).toEqual([]);
    expect(init.body.recovery_keys).toHaveLength(3);
    expect(await status()).toMatchObject({
      type: 'transit',
      recovery_seal: true,
      initialized: true,
      sealed: false,
      t: 2,
      n: 3,
    });
    const written = await send((node as RunningServer).url, 'POST', 'secret/data/app', {
      token: init.body.root_token,
      body: { data: { value: 'written' } },
    });
    expect(written.status).toBe(200);
  });

  it('generates a root token with a threshold of recovery keys (a wrong set is refused)', async () => {
    const { url, recoveryKeys } = await initialisedNode();
    const started = await send(url, 'POST', 'sys/generate-root/attempt', { body: {} });
    expect(started.body).toMatchObject({ started: true, required: 2 });
    const { otp, nonce } = started.body as { otp: string; nonce: string };
    await send(url, 'POST', 'sys/generate-root/update', { body: { key: recoveryKeys[0], nonce } });
    const done = await send(url, 'POST', 'sys/generate-root/update', {
      body: { key: recoveryKeys[2], nonce },
    });
    expect(done.body).toMatchObject({ complete: true });
    const token = decodeRootToken(done.body.encoded_token, otp);
    const self = await send(url, 'GET', 'auth/token/lookup-self', { token });
    expect(self.body.data.policies).toEqual(['root']);
    // Unseal shares of another server do not authorise it.
    const other = await send(url, 'POST', 'sys/generate-root/attempt', { body: {} });
    const otherNonce = other.body.nonce as string;
    await send(url, 'POST', 'sys/generate-root/update', {
      body: { key: sealKeys.keys[0], nonce: otherNonce },
    });
    const refused = await send(url, 'POST', 'sys/generate-root/update', {
      body: { key: sealKeys.keys[1], nonce: otherNonce },
    });
    expect(refused.status).toBe(400);
    await send(url, 'DELETE', 'sys/generate-root/attempt');
  });

  it('refuses recovery keys as unseal keys, and rekey (it needs unseal shares)', async () => {
    const { url, rootToken, recoveryKeys } = await initialisedNode();
    const rekey = await send(url, 'POST', 'sys/rekey/init', {
      token: rootToken,
      body: { secret_shares: 3, secret_threshold: 2 },
    });
    expect(rekey.status).toBe(400);
    expect(rekey.body.errors).toEqual([
      'rekey is not available with an auto-unseal seal (recovery keys do not split the root key): rotate the recovery keys with sys/rekey-recovery-key',
    ]);
    expect(recoveryKeys).toHaveLength(3);
  });

  it('rotates the recovery keys (sys/rekey-recovery-key): new shares issued, the old ones stop working', async () => {
    const { url, recoveryKeys } = await initialisedNode();
    const rotated = await rekeyRecoveryWith(url, recoveryKeys.slice(0, 2), {
      secret_shares: 5,
      secret_threshold: 3,
    });
    expect(rotated.update.body).toMatchObject({ complete: true, verification_required: false });
    expect(rotated.keys).toHaveLength(5);
    expect(await status()).toMatchObject({ type: 'transit', sealed: false, t: 3, n: 5 });
    expect((await generateRootWith(url, recoveryKeys)).status).toBe(400);
    expect((await generateRootWith(url, rotated.keys.slice(2))).body.complete).toBe(true);
  });

  it('stays sealed while the seal server is down, retries, and unseals once it is back', async () => {
    const { rootToken } = await initialisedNode();
    await (node as RunningServer).close();
    await (sealServer as RunningServer).close();
    sealServer = undefined;
    logs.length = 0;
    node = await startNode();
    await until(async () => logs.some((l) => l.includes('auto-unseal failed')), 'a failed try');
    expect(await status()).toMatchObject({ type: 'transit', initialized: true, sealed: true });
    const sealed = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
      token: rootToken,
    });
    expect(sealed.status).toBe(503);
    const failures = logs.filter((l) => l.includes('auto-unseal failed')).length;
    await until(
      async () => logs.filter((l) => l.includes('auto-unseal failed')).length > failures,
      'a retry',
    );
    await startSealServer();
    await until(async () => (await status()).sealed === false, 'the auto-unseal');
    const read = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
      token: rootToken,
    });
    expect(read.body.data.data.value).toBe('written before restart');
    const all = logs.join('\n');
    expect(all).toContain('ERR_SEAL_UNAVAILABLE');
    expect(all).not.toContain(sealKeys.rootToken);
  });

  it('never logs the seal token (canary), and a wrong token keeps the server sealed', async () => {
    await initialisedNode();
    await (node as RunningServer).close();
    logs.length = 0;
    const canary = `hvs.${'CANARY'}${Date.now().toString(36)}`;
    node = await startSealedServer(storage.location, {
      seal: {
        type: 'transit',
        address: `http://127.0.0.1:${sealPort}`,
        key_name: 'custos-seal',
        token: canary,
      },
      logLevel: 'info',
      logDestination: { write: (line) => void logs.push(line) },
      autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
    });
    await until(async () => logs.some((l) => l.includes('auto-unseal failed')), 'a failed try');
    expect((await status()).sealed).toBe(true);
    expect(logs.join('\n')).not.toContain(canary);
    const unseal = await send((node as RunningServer).url, 'POST', 'sys/unseal', { body: {} });
    expect(unseal.status).toBe(503);
    expect(unseal.text).not.toContain(canary);
    await (node as RunningServer).close();
    node = await startNode();
    await until(async () => (await status()).sealed === false, 'the auto-unseal');
  });

  it('migrates Shamir -> transit -> Shamir: data written before is read after, unseal keys become recovery keys and back', async () => {
    const shamirStorage = await createTestStorage(kind);
    try {
      const plain = await startSealedServer(shamirStorage.location);
      const init = await initOverHttp(plain);
      await unsealOverHttp(plain, init.keys);
      const written = await send(plain.url, 'POST', 'secret/data/before', {
        token: init.rootToken,
        body: { data: { value: 'from the Shamir days' } },
      });
      expect(written.status).toBe(200);
      await plain.close();
      const migrating = await startSealedServer(shamirStorage.location, {
        seal: {
          type: 'transit',
          address: `http://127.0.0.1:${sealPort}`,
          key_name: 'custos-seal',
        },
        env: { VAULT_TOKEN: sealKeys.rootToken },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
      try {
        const pending = (await send(migrating.url, 'GET', 'sys/seal-status')).body;
        expect(pending).toMatchObject({ type: 'shamir', sealed: true, migration: true });
        const plainShare = await send(migrating.url, 'POST', 'sys/unseal', {
          body: { key: init.keys[0] },
        });
        expect(plainShare.status).toBe(400);
        expect(plainShare.body.errors[0]).toContain('"migrate": true');
        await send(migrating.url, 'POST', 'sys/unseal', {
          body: { key: init.keys[0], migrate: true },
        });
        const done = await send(migrating.url, 'POST', 'sys/unseal', {
          body: { key: init.keys[2], migrate: true },
        });
        expect(done.body).toMatchObject({
          type: 'transit',
          recovery_seal: true,
          sealed: false,
          migration: false,
          t: 2,
          n: 3,
        });
      } finally {
        await migrating.close();
      }
      const after = await startSealedServer(shamirStorage.location, {
        seal: {
          type: 'transit',
          address: `http://127.0.0.1:${sealPort}`,
          key_name: 'custos-seal',
        },
        env: { VAULT_TOKEN: sealKeys.rootToken },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
      try {
        await until(
          async () => (await send(after.url, 'GET', 'sys/seal-status')).body.sealed === false,
          'the auto-unseal after migration',
        );
        const read = await send(after.url, 'GET', 'secret/data/before', { token: init.rootToken });
        expect(read.body.data.data.value).toBe('from the Shamir days');
        // The old unseal keys are the recovery keys now: they authorise a root generation.
        const started = await send(after.url, 'POST', 'sys/generate-root/attempt', { body: {} });
        const { nonce } = started.body as { nonce: string };
        await send(after.url, 'POST', 'sys/generate-root/update', {
          body: { key: init.keys[1], nonce },
        });
        const generated = await send(after.url, 'POST', 'sys/generate-root/update', {
          body: { key: init.keys[2], nonce },
        });
        expect(generated.body).toMatchObject({ complete: true });
      } finally {
        await after.close();
      }
      // Without the seal stanza the migrated storage stays sealed, with a clear error.
      const withoutSeal = await startSealedServer(shamirStorage.location);
      try {
        const refused = await send(withoutSeal.url, 'POST', 'sys/unseal', {
          body: { key: init.keys[0] },
        });
        expect(refused.status).toBe(503);
        expect(refused.text).toContain('no seal stanza');
        expect((await send(withoutSeal.url, 'GET', 'sys/seal-status')).body.sealed).toBe(true);
      } finally {
        await withoutSeal.close();
      }
      // And back: the stanza `disabled`, the recovery keys with `migrate` become unseal keys.
      const back = await startSealedServer(shamirStorage.location, {
        seal: {
          type: 'transit',
          address: `http://127.0.0.1:${sealPort}`,
          key_name: 'custos-seal',
          disabled: true,
        },
        env: { VAULT_TOKEN: sealKeys.rootToken },
      });
      try {
        expect((await send(back.url, 'GET', 'sys/seal-status')).body).toMatchObject({
          type: 'transit',
          sealed: true,
          migration: true,
        });
        const noMigrate = await send(back.url, 'POST', 'sys/unseal', {
          body: { key: init.keys[0] },
        });
        expect(noMigrate.status).toBe(400);
        // A wrong set (the seal server's keys) is refused, nothing is written.
        await send(back.url, 'POST', 'sys/unseal', {
          body: { key: sealKeys.keys[0], migrate: true },
        });
        const wrong = await send(back.url, 'POST', 'sys/unseal', {
          body: { key: sealKeys.keys[1], migrate: true },
        });
        expect(wrong.status).toBe(400);
        expect((await send(back.url, 'GET', 'sys/seal-status')).body).toMatchObject({
          type: 'transit',
          sealed: true,
          migration: true,
        });
        await send(back.url, 'POST', 'sys/unseal', { body: { key: init.keys[1], migrate: true } });
        const done = await send(back.url, 'POST', 'sys/unseal', {
          body: { key: init.keys[2], migrate: true },
        });
        expect(done.body).toMatchObject({ type: 'shamir', sealed: false, recovery_seal: false });
      } finally {
        await back.close();
      }
      const shamirAgain = await startSealedServer(shamirStorage.location);
      try {
        expect((await unsealOverHttp(shamirAgain, init.keys)).body.sealed).toBe(false);
        const read = await send(shamirAgain.url, 'GET', 'secret/data/before', {
          token: init.rootToken,
        });
        expect(read.body.data.data.value).toBe('from the Shamir days');
      } finally {
        await shamirAgain.close();
      }
    } finally {
      await shamirStorage.cleanup();
    }
  });

  it('unseals after a rotation of the transit key (the stored key names its version)', async () => {
    const { rootToken } = await initialisedNode();
    const rotated = await send(
      (sealServer as RunningServer).url,
      'POST',
      'transit/keys/custos-seal/rotate',
      {
        token: sealKeys.rootToken,
      },
    );
    expect(rotated.status).toBe(200);
    await (node as RunningServer).close();
    node = await startNode();
    await until(async () => (await status()).sealed === false, 'the auto-unseal');
    const read = await send(node.url, 'GET', 'secret/data/app', { token: rootToken });
    expect(read.body.data.data.value).toBe('written before restart');
  });
});
