import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import {
  initOverHttp,
  shareWithOtherIndex,
  startSealedServer,
  storeHoldingAnInsert,
} from '../../test/seal.js';
import type { RunningServer } from '../server.js';
import { Rekey } from './rekey.js';

/** Submits `keys` to `sys/unseal` in turn; returns the last answer. */
async function unsealWith(server: RunningServer, keys: readonly string[]) {
  let last = await send(server.url, 'POST', 'sys/unseal', { body: { key: keys[0] } });
  for (const key of keys.slice(1)) {
    if (last.status !== 200) return last;
    last = await send(server.url, 'POST', 'sys/unseal', { body: { key } });
  }
  return last;
}

/** Runs a rekey to completion with `oldKeys`; returns the last answer. */
async function rekeyWith(
  server: RunningServer,
  oldKeys: readonly string[],
  body: Record<string, unknown>,
) {
  const init = await send(server.url, 'POST', 'sys/rekey/init', { body });
  expect(init.status, init.text).toBe(200);
  let last = init;
  for (const key of oldKeys) {
    last = await send(server.url, 'POST', 'sys/rekey/update', {
      body: { key, nonce: init.body.nonce },
    });
    if (last.status !== 200) return last;
  }
  return last;
}

describe.each(await storageKinds())('sys/rekey over HTTP on %s', (kind) => {
  let storage: TestStorage;
  let a: RunningServer;
  let b: RunningServer;
  let keys: string[];
  let rootToken: string;

  beforeAll(async () => {
    storage = await createTestStorage(kind);
    a = await startSealedServer(storage.location);
    ({ keys, rootToken } = await initOverHttp(a)); // 3 shares, threshold 2
    b = await startSealedServer(storage.location);
    expect((await unsealWith(a, keys.slice(0, 2))).body.sealed).toBe(false);
    expect((await unsealWith(b, keys.slice(1, 3))).body.sealed).toBe(false);
    const write = await send(a.url, 'POST', 'secret/data/kept', {
      token: rootToken,
      body: { data: { v: 'before rekey' } },
    });
    expect(write.status).toBe(200);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await storage.cleanup();
  });

  it('reports no rekey, then one in progress on every server; a second start is refused', async () => {
    expect((await send(a.url, 'GET', 'sys/rekey/init')).body).toEqual({
      nonce: '',
      started: false,
      t: 0,
      n: 0,
      progress: 0,
      required: 2,
      pgp_fingerprints: null,
      backup: false,
      verification_required: false,
    });
    const init = await send(a.url, 'POST', 'sys/rekey/init', {
      body: { secret_shares: 5, secret_threshold: 3, pgp_keys: null, backup: false },
    });
    expect(init.body).toMatchObject({ started: true, t: 3, n: 5, progress: 0, required: 2 });
    const nonce = init.body.nonce as string;
    expect((await send(b.url, 'GET', 'sys/rekey/init')).body).toMatchObject({
      started: true,
      nonce,
      t: 3,
      n: 5,
    });
    for (const server of [a, b]) {
      const again = await send(server.url, 'POST', 'sys/rekey/init', {
        body: { secret_shares: 3, secret_threshold: 2 },
      });
      expect(again).toMatchObject({ status: 400, body: { errors: ['rekey already in progress'] } });
    }
    // The other server holds no progress: refused clearly, nothing counted.
    const elsewhere = await send(b.url, 'POST', 'sys/rekey/update', {
      body: { key: keys[0], nonce },
    });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.errors).toEqual([
      'this server holds no progress for the rekey in progress (it was started on another server, or before a seal or restart): send the keys to the server that started it, or cancel it (DELETE sys/rekey/init) and start again',
    ]);
    // Nonce mismatch, malformed and duplicate keys change nothing.
    const wrongNonce = await send(a.url, 'POST', 'sys/rekey/update', {
      body: { key: keys[0], nonce: 'not-the-nonce' },
    });
    expect(wrongNonce.body.errors[0]).toBe(
      `incorrect nonce supplied; nonce for this rekey operation is ${nonce}`,
    );
    expect(
      (await send(a.url, 'POST', 'sys/rekey/update', { body: { key: 'abcd', nonce } })).status,
    ).toBe(400);
    expect(
      (await send(a.url, 'POST', 'sys/rekey/update', { body: { key: keys[0], nonce } })).body
        .progress,
    ).toBe(1);
    const duplicate = await send(a.url, 'POST', 'sys/rekey/update', {
      body: { key: keys[0], nonce },
    });
    expect(duplicate.body.errors[0]).toMatch(/already been provided/);
    expect((await send(a.url, 'GET', 'sys/rekey/init')).body.progress).toBe(1);
    // Cancel from the other server ends it everywhere.
    expect((await send(b.url, 'DELETE', 'sys/rekey/init')).status).toBe(204);
    expect((await send(a.url, 'GET', 'sys/rekey/init')).body.started).toBe(false);
    expect(
      await send(a.url, 'POST', 'sys/rekey/update', { body: { key: keys[1], nonce } }),
    ).toMatchObject({ status: 400, body: { errors: ['no rekey in progress'] } });
  });

  it('refuses bad share counts and PGP keys; shares of another server fail and reset progress', async () => {
    for (const body of [
      { secret_shares: 3, secret_threshold: 4 },
      { secret_shares: '3', secret_threshold: 2 },
      { secret_shares: 3, secret_threshold: 2, pgp_keys: ['a2V5'] },
      { secret_shares: 3, secret_threshold: 2, backup: true },
      { secret_shares: 3, secret_threshold: 2, require_verification: 'yes' },
    ])
      expect((await send(a.url, 'POST', 'sys/rekey/init', { body })).status).toBe(400);
    expect((await send(a.url, 'GET', 'sys/rekey/init')).body.started).toBe(false);

    const other = await createTestStorage('sqlite');
    const stranger = await startSealedServer(other.location);
    try {
      const foreign = (await initOverHttp(stranger)).keys;
      const unlike = shareWithOtherIndex(foreign, [keys[0] as string]);
      const failed = await rekeyWith(a, [keys[0] as string, unlike], {
        secret_shares: 3,
        secret_threshold: 2,
      });
      expect(failed.status).toBe(400);
      expect(failed.body.errors[0]).toMatch(/do not reproduce the root key/);
      expect((await send(a.url, 'GET', 'sys/rekey/init')).body.progress).toBe(0);
      expect((await send(a.url, 'DELETE', 'sys/rekey/init')).status).toBe(204);
    } finally {
      await stranger.close();
      await other.cleanup();
    }
  });

  it('completes with the old threshold; the old shares stop working, the new ones unseal', async () => {
    const done = await rekeyWith(a, keys.slice(1, 3), { secret_shares: 5, secret_threshold: 3 });
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({
      complete: true,
      verification_required: false,
      backup: false,
    });
    expect(done.body.keys).toHaveLength(5);
    expect(done.body.keys_base64).toHaveLength(5);
    const newKeys = done.body.keys as string[];
    expect(newKeys.some((k) => keys.includes(k))).toBe(false);
    expect((await send(a.url, 'GET', 'sys/seal-status')).body).toMatchObject({ t: 3, n: 5 });

    // The other server follows: it rotates the barrier key with the new root key, and a reads it.
    expect((await send(b.url, 'POST', 'sys/rotate', { token: rootToken })).status).toBe(204);
    const written = await send(b.url, 'POST', 'secret/data/after', {
      token: rootToken,
      body: { data: { v: 'after rekey' } },
    });
    expect(written.status).toBe(200);
    const read = await send(a.url, 'GET', 'secret/data/after', { token: rootToken });
    expect(read.body.data.data.v).toBe('after rekey');

    // Old shares authorise nothing any more: not a rekey, not a root token, not an unseal.
    const replay = await rekeyWith(a, keys.slice(0, 3), { secret_shares: 3, secret_threshold: 2 });
    expect(replay.status).toBe(400);
    expect((await send(a.url, 'DELETE', 'sys/rekey/init')).status).toBe(204);
    for (const server of [a, b]) {
      expect((await send(server.url, 'POST', 'sys/seal', { token: rootToken })).status).toBe(204);
    }
    for (const server of [a, b]) {
      // The seal happens once its response is sent: wait for it (bounded).
      for (let i = 0; i < 100; i++) {
        if ((await send(server.url, 'GET', 'sys/seal-status')).body.sealed) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await send(server.url, 'GET', 'sys/seal-status')).body.sealed).toBe(true);
      const old = await unsealWith(server, keys.slice(0, 3));
      expect(old.status).toBe(400);
      expect((await send(server.url, 'POST', 'sys/unseal', { body: { reset: true } })).status).toBe(
        200,
      );
      const fresh = await unsealWith(server, [newKeys[4], newKeys[0], newKeys[2]] as string[]);
      expect(fresh.body).toMatchObject({ sealed: false, t: 3, n: 5 });
    }
    const kept = await send(b.url, 'GET', 'secret/data/kept', { token: rootToken });
    expect(kept.body.data.data.v).toBe('before rekey');
    keys = newKeys;
  });

  /** What `GET sys/rekey/verify` answers with nothing to verify (Vault's empty status). */
  const NO_VERIFICATION = { nonce: '', started: false, t: 0, n: 0, progress: 0 };

  it('with require_verification installs the new key only once a threshold of new keys is given back', async () => {
    const verifyNow = () => send(a.url, 'POST', 'sys/rekey/verify', { body: { key: keys[0] } });
    expect((await send(a.url, 'GET', 'sys/rekey/verify')).body).toEqual(NO_VERIFICATION);
    expect(await verifyNow()).toMatchObject({
      status: 400,
      body: { errors: ['no rekey in progress'] },
    });
    // A rekey whose old keys are not all in yet has nothing to verify.
    await rekeyWith(a, [], { secret_shares: 3, secret_threshold: 2, require_verification: true });
    expect(await verifyNow()).toMatchObject({
      status: 400,
      body: { errors: ['no rekey verification in progress'] },
    });
    expect((await send(a.url, 'DELETE', 'sys/rekey/init')).status).toBe(204);
    // The keys in force: whatever an earlier test of the file left (the test runs alone too).
    const inForce = (await send(a.url, 'GET', 'sys/seal-status')).body as { t: number; n: number };
    const pending = await rekeyWith(a, keys.slice(0, inForce.t), {
      secret_shares: 3,
      secret_threshold: 2,
      require_verification: true,
    });
    expect(pending.body).toMatchObject({ complete: true, verification_required: true });
    const newKeys = pending.body.keys as string[];
    const verifyNonce = pending.body.verification_nonce as string;
    expect((await send(a.url, 'GET', 'sys/rekey/verify')).body).toEqual({
      nonce: verifyNonce,
      started: true,
      t: 2,
      n: 3,
      progress: 0,
    });
    // Until verified, the current keys are still the ones in force.
    expect((await send(a.url, 'GET', 'sys/seal-status')).body).toMatchObject({
      t: inForce.t,
      n: inForce.n,
    });
    const wrongNonce = await send(a.url, 'POST', 'sys/rekey/verify', {
      body: { key: newKeys[0], nonce: 'x' },
    });
    expect(wrongNonce.body.errors).toEqual([
      `incorrect nonce supplied; nonce for this rekey verification operation is ${verifyNonce}`,
    ]);
    // The old keys are spent: another update is refused until the new ones are verified.
    const update = await send(a.url, 'POST', 'sys/rekey/update', {
      body: { key: keys[0], nonce: pending.body.nonce },
    });
    expect(update).toMatchObject({
      status: 400,
      body: {
        errors: [
          'the new keys were given out and await verification: send them to sys/rekey/verify',
        ],
      },
    });
    // Current (not new) keys fail verification and reset its progress.
    const wrong = await send(a.url, 'POST', 'sys/rekey/verify', {
      body: { key: keys[0], nonce: verifyNonce },
    });
    expect(wrong.body.progress).toBe(1);
    const failed = await send(a.url, 'POST', 'sys/rekey/verify', {
      body: { key: keys[1], nonce: verifyNonce },
    });
    expect(failed.status).toBe(400);
    expect(failed.body.errors).toEqual([
      'the keys given do not reproduce the new root key; verification progress was reset',
    ]);
    // DELETE restarts the verification with a new nonce; the new keys stay the same.
    const restarted = await send(a.url, 'DELETE', 'sys/rekey/verify');
    expect(restarted.body.nonce).not.toBe(verifyNonce);
    // The restarted verification still names itself in its refusals.
    expect(
      (await send(a.url, 'POST', 'sys/rekey/verify', { body: { key: newKeys[0], nonce: 'x' } }))
        .body.errors,
    ).toEqual([
      `incorrect nonce supplied; nonce for this rekey verification operation is ${restarted.body.nonce}`,
    ]);
    for (const key of newKeys.slice(0, 2)) {
      const step = await send(a.url, 'POST', 'sys/rekey/verify', {
        body: { key, nonce: restarted.body.nonce },
      });
      expect(step.status, step.text).toBe(200);
      if (key === newKeys[1])
        expect(step.body).toEqual({ nonce: restarted.body.nonce, complete: true });
    }
    expect((await send(a.url, 'GET', 'sys/seal-status')).body).toMatchObject({ t: 2, n: 3 });
    expect((await send(a.url, 'GET', 'sys/rekey/init')).body.started).toBe(false);
    // The verification ended with the rekey: nothing is left to verify or report.
    expect((await send(a.url, 'GET', 'sys/rekey/verify')).body).toEqual(NO_VERIFICATION);
    keys = newKeys;
  });
  it('reports only the progress of the rekey in storage, and forgets its own at a seal', async () => {
    const inForce = (await send(a.url, 'GET', 'sys/seal-status')).body as { t: number; n: number };
    const current = keys.slice(0, inForce.t);
    const body = { secret_shares: 3, secret_threshold: 2 };
    const first = await send(a.url, 'POST', 'sys/rekey/init', { body });
    const step = (server: RunningServer, key: string | undefined, nonce: string) =>
      send(server.url, 'POST', 'sys/rekey/update', { body: { key, nonce } });
    expect((await step(a, current[0], first.body.nonce)).body.progress).toBe(1);
    // Another server cancels it and starts its own: this one's progress is of no rekey now.
    expect((await send(b.url, 'DELETE', 'sys/rekey/init')).status).toBe(204);
    const second = await send(b.url, 'POST', 'sys/rekey/init', { body });
    expect((await send(a.url, 'GET', 'sys/rekey/init')).body).toMatchObject({
      started: true,
      nonce: second.body.nonce,
      progress: 0,
    });
    expect((await step(b, current[0], second.body.nonce)).body.progress).toBe(1);
    // A seal drops the progress this server held: unsealed again, it holds none for the rekey.
    expect((await send(b.url, 'POST', 'sys/seal', { token: rootToken })).status).toBe(204);
    expect((await unsealWith(b, current)).body.sealed).toBe(false);
    expect((await send(b.url, 'GET', 'sys/rekey/init')).body).toMatchObject({
      started: true,
      progress: 0,
    });
    expect((await step(b, current[1], second.body.nonce)).body.errors[0]).toMatch(
      /^this server holds no progress for the rekey in progress/,
    );
    expect((await send(b.url, 'DELETE', 'sys/rekey/init')).status).toBe(204);
  });
  it('refuses a recovery key rekey on a server with unseal keys, naming it', async () => {
    const answer = await send(a.url, 'POST', 'sys/rekey-recovery-key/init', {
      token: rootToken,
      body: { secret_shares: 3, secret_threshold: 2 },
    });
    expect(answer).toMatchObject({
      status: 400,
      body: {
        errors: [
          'a recovery key rekey needs an auto-unseal seal: this server has unseal keys (rekey them with sys/rekey)',
        ],
      },
    });
  });
  it('refuses shares for a rekey whose start was overtaken on this server by a cancel and a new start', async () => {
    // As for root generation (generate-root.test.ts): X's start is committed and its answer held
    // back while X is cancelled and Y started on the same server; the progress held is then X's.
    const { store, holdNextInsert } = storeHoldingAnInsert(a);
    const rekey = new Rekey(a.context.seal, store);
    const options = { shares: 3, threshold: 2, requireVerification: false };
    const release = holdNextInsert();
    const starting = rekey.init(options);
    await vi.waitFor(async () => expect((await rekey.status()).started).toBe(true));
    await rekey.cancel();
    const second = await rekey.init(options);
    release();
    expect((await starting).nonce).toBe(second.nonce);
    for (const nonce of [second.nonce, 'another']) {
      await expect(
        rekey.update(Buffer.from(keys[0] as string, 'hex'), nonce),
      ).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
        message: expect.stringMatching(/^this server holds no progress for the rekey/),
      });
    }
    await rekey.cancel();
    expect((await send(a.url, 'GET', 'sys/rekey/init')).body.started).toBe(false);
  });
});
