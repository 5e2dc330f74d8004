import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, send, type TestStorage } from '../../test/harness.js';
import {
  generateRootWith,
  initWithRecoveryKeys,
  rekeyRecoveryWith,
  shamirSealRoundTrip,
  startSealedServer,
} from '../../test/seal.js';
import { createSoftHsmToken, SOFTHSM_LIBRARY, type SoftHsmToken } from '../../test/softhsm.js';
import { until } from '../../test/until.js';
import type { RunningServer } from '../server.js';
import type { Pkcs11SealConfig } from './pkcs11-seal.js';
import { decodeRootToken } from './root-token-otp.js';

/**
 * Auto-unseal with the PKCS#11 seal on a SoftHSM2 token the test initialises: init gives
 * recovery keys, a restart unseals itself, a wrong PIN / missing key / absent token leaves the
 * server sealed with a clear error, and Shamir migrates to the HSM and back.
 */
describe.each(['CKM_AES_GCM', 'CKM_AES_KEY_WRAP_PAD'])(
  'PKCS#11 auto-unseal with %s',
  (mechanism) => {
    let token: SoftHsmToken;
    /** The storage of the test's node (each test has its own: any may run alone). */
    let storage: TestStorage;
    const storages: TestStorage[] = [];
    let node: RunningServer | undefined;
    const logs: string[] = [];

    const seal = (extra: Partial<Pkcs11SealConfig> = {}): Pkcs11SealConfig => ({
      type: 'pkcs11',
      lib: SOFTHSM_LIBRARY,
      token_label: token.label,
      key_label: 'custos-seal',
      mechanism,
      generate_key: true,
      ...extra,
    });
    const start = (extra: Partial<Pkcs11SealConfig> = {}, pin = token.pin) =>
      startSealedServer(storage.location, {
        seal: seal(extra),
        env: { HSM_PIN: pin },
        logLevel: 'info',
        logDestination: { write: (line) => void logs.push(line) },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
    const status = async () =>
      (await send((node as RunningServer).url, 'GET', 'sys/seal-status')).body;
    const restart = async (extra: Partial<Pkcs11SealConfig> = {}, pin = token.pin) => {
      await node?.close();
      logs.length = 0;
      node = await start(extra, pin);
    };

    /** A node on storage of its own, not initialised. */
    const freshNode = async () => {
      storage = await createTestStorage('sqlite');
      storages.push(storage);
      await restart();
      return node as RunningServer;
    };
    /** {@link freshNode} initialised (three recovery shares, threshold two), holding `secret/app`. */
    const initialisedNode = async () => {
      const url = (await freshNode()).url;
      return { url, ...(await initWithRecoveryKeys(url, 'kept behind the HSM')) };
    };

    beforeAll(async () => {
      token = await createSoftHsmToken('custos-seal-test');
    });
    afterEach(async () => {
      await node?.close();
      node = undefined;
      for (const used of storages.splice(0)) await used.cleanup();
    });
    afterAll(async () => {
      await token.cleanup();
    });

    it('gives recovery keys at init and unseals itself after a restart', async () => {
      await freshNode();
      expect(await status()).toMatchObject({
        type: 'pkcs11',
        recovery_seal: true,
        initialized: false,
      });
      const init = await send((node as RunningServer).url, 'POST', 'sys/init', {
        body: { recovery_shares: 3, recovery_threshold: 2 },
      });
      expect(init.status).toBe(200);
      expect(init.body.keys).toEqual([]);
      expect(init.body.recovery_keys).toHaveLength(3);
      const rootToken = init.body.root_token;
      expect(await status()).toMatchObject({ type: 'pkcs11', sealed: false, t: 2, n: 3 });
      const written = await send((node as RunningServer).url, 'POST', 'secret/data/app', {
        token: rootToken,
        body: { data: { value: 'kept behind the HSM' } },
      });
      expect(written.status).toBe(200);
      await restart({ generate_key: false });
      await until(async () => (await status()).sealed === false, 'the auto-unseal');
      expect(logs.join('\n')).toContain('unsealed by the pkcs11 seal');
      const read = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
        token: rootToken,
      });
      expect(read.body.data.data.value).toBe('kept behind the HSM');
    });

    it('authorises a root generation with the recovery keys', async () => {
      const { url, recoveryKeys } = await initialisedNode();
      const started = await send(url, 'POST', 'sys/generate-root/attempt', { body: {} });
      const { otp, nonce } = started.body as { otp: string; nonce: string };
      await send(url, 'POST', 'sys/generate-root/update', {
        body: { key: recoveryKeys[1], nonce },
      });
      const done = await send(url, 'POST', 'sys/generate-root/update', {
        body: { key: recoveryKeys[2], nonce },
      });
      expect(done.body).toMatchObject({ complete: true });
      const self = await send(url, 'GET', 'auth/token/lookup-self', {
        token: decodeRootToken(done.body.encoded_token, otp),
      });
      expect(self.body.data.policies).toEqual(['root']);
    });

    it('rotates the recovery keys (sys/rekey-recovery-key, with verification): the old ones stop working', async () => {
      const { url, rootToken, recoveryKeys } = await initialisedNode();
      const barrier = await send(url, 'POST', 'sys/rekey/init', {
        body: { secret_shares: 3, secret_threshold: 2 },
      });
      expect(barrier.status).toBe(400);
      expect(barrier.body.errors[0]).toContain('sys/rekey-recovery-key');
      // A wrong set (one old key and a made-up one) is refused and changes nothing.
      const bogus = `${'ab'.repeat(32)}01`;
      const wrong = await rekeyRecoveryWith(url, [recoveryKeys[0] as string, bogus], {
        secret_shares: 4,
        secret_threshold: 3,
      });
      expect(wrong.update.status).toBe(400);
      await send(url, 'DELETE', 'sys/rekey-recovery-key/init');
      const rotated = await rekeyRecoveryWith(url, recoveryKeys.slice(1), {
        secret_shares: 4,
        secret_threshold: 3,
        require_verification: true,
      });
      expect(rotated.update.body).toMatchObject({ complete: true, verification_required: true });
      expect(rotated.keys).toHaveLength(4);
      expect(rotated.verify?.body).toMatchObject({ complete: true });
      expect(await status()).toMatchObject({ type: 'pkcs11', sealed: false, t: 3, n: 4 });
      expect((await send(url, 'GET', 'sys/rekey-recovery-key/init')).body.started).toBe(false);
      const old = await generateRootWith(url, recoveryKeys.slice(0, 3));
      expect(old.status).toBe(400);
      expect(old.body.errors[0]).toContain('do not reproduce');
      expect((await generateRootWith(url, rotated.keys.slice(1))).body.complete).toBe(true);
      // The root key did not change: a restart still unseals by itself, data intact.
      await restart({ generate_key: false });
      await until(async () => (await status()).sealed === false, 'the auto-unseal');
      expect((await status()).t).toBe(3);
      const read = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
        token: rootToken,
      });
      expect(read.body.data.data.value).toBe('kept behind the HSM');
    });

    it('stays sealed on a wrong PIN, naming it but never the PIN, without retrying the login', async () => {
      const { rootToken } = await initialisedNode();
      const canary = `CANARY${randomBytes(6).toString('hex')}`;
      await restart({}, canary);
      await until(
        async () => logs.filter((l) => l.includes('auto-unseal failed')).length >= 2,
        'a failure and a retry',
      );
      expect((await status()).sealed).toBe(true);
      const all = logs.join('\n');
      expect(all).toContain('CKR_PIN_INCORRECT');
      expect(all).toContain('not tried again');
      expect(all).not.toContain(canary);
      expect(all).not.toContain(token.pin);
      const sealedRead = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
        token: rootToken,
      });
      expect(sealedRead.status).toBe(503);
      expect(sealedRead.text).not.toContain(canary);
      await restart();
      await until(async () => (await status()).sealed === false, 'the auto-unseal with the PIN');
    });

    it('stays sealed with a clear error when the key or the token is missing', async () => {
      await initialisedNode();
      for (const [extra, named] of [
        [{ key_label: 'not-there', generate_key: false }, 'wrapped by pkcs11 key "custos-seal"'],
        [{ token_label: 'unplugged' }, 'no PKCS#11 token is labelled "unplugged"'],
      ] as const) {
        await restart(extra);
        await until(async () => logs.some((l) => l.includes('auto-unseal failed')), 'a failure');
        expect((await status()).sealed).toBe(true);
        const messages = logs.map((line) => JSON.parse(line) as { msg: string; code?: string });
        expect(
          messages.some((m) => m.code === 'ERR_SEAL_UNAVAILABLE' && m.msg.includes(named)),
        ).toBe(true);
      }
      await restart();
      await until(async () => (await status()).sealed === false, 'the auto-unseal');
    });

    it('migrates Shamir -> pkcs11 -> Shamir: data written before is read after', async () => {
      await shamirSealRoundTrip('pkcs11', (phase) => ({
        seal: seal({
          key_label: 'migrated',
          ...(phase === 'auto-unseal' ? { generate_key: false } : {}),
          ...(phase === 'back' ? { disabled: true } : {}),
        }),
        env: { HSM_PIN: token.pin },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      }));
    });
  },
);
