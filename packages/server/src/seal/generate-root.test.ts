import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import {
  initOverHttp,
  shareWithOtherIndex,
  startSealedServer,
  storeHoldingAnInsert,
  unsealOverHttp,
} from '../../test/seal.js';
import type { RunningServer } from '../server.js';
import { GenerateRoot } from './generate-root.js';
import { decodeRootToken, generateOtp, ROOT_TOKEN_OTP_LENGTH } from './root-token-otp.js';

describe.each(await storageKinds())('sys/generate-root over HTTP on %s', (kind) => {
  let storage: TestStorage;
  let a: RunningServer;
  let b: RunningServer;
  let keys: string[];
  let rootToken: string;

  beforeAll(async () => {
    storage = await createTestStorage(kind);
    a = await startSealedServer(storage.location);
    ({ keys, rootToken } = await initOverHttp(a));
    b = await startSealedServer(storage.location);
    expect((await unsealOverHttp(a, keys)).body.sealed).toBe(false);
    expect((await unsealOverHttp(b, keys)).body.sealed).toBe(false);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await storage.cleanup();
  });

  const attempt = (server: RunningServer, method: string, body?: unknown) =>
    send(server.url, method, 'sys/generate-root/attempt', body === undefined ? {} : { body });
  const update = (server: RunningServer, key: string | undefined, nonce: string) =>
    send(server.url, 'POST', 'sys/generate-root/update', { body: { key, nonce } });

  it('generates a root token with a server-made OTP: the encoded token decodes to a working root token', async () => {
    expect((await attempt(a, 'GET')).body).toEqual({
      started: false,
      nonce: '',
      progress: 0,
      required: 2,
      encoded_token: '',
      encoded_root_token: '',
      pgp_fingerprint: '',
      otp: '',
      otp_length: 36,
      complete: false,
    });
    const started = await attempt(a, 'POST', { pgp_key: '' });
    expect(started.body).toMatchObject({ started: true, progress: 0, required: 2, otp_length: 36 });
    const { otp, nonce } = started.body as { otp: string; nonce: string };
    expect(otp).toMatch(/^[A-Za-z0-9]{36}$/);
    // The OTP is given once: the status never shows it again, on any server.
    expect((await attempt(a, 'GET')).body.otp).toBe('');
    expect((await attempt(b, 'GET')).body).toMatchObject({ started: true, nonce, otp: '' });
    expect((await attempt(b, 'POST', {})).body.errors).toEqual([
      'root generation already in progress',
    ]);
    expect((await update(b, keys[0], nonce)).body.errors).toEqual([
      'this server holds no progress for the root generation in progress (it was started on another server, or before a seal or restart): send the keys to the server that started it, or cancel it (DELETE sys/generate-root/attempt) and start again',
    ]);
    expect((await update(a, keys[0], 'wrong')).body.errors[0]).toBe(
      `incorrect nonce supplied; nonce for this root generation operation is ${nonce}`,
    );
    expect((await update(a, keys[0], nonce)).body).toMatchObject({ progress: 1, complete: false });
    expect((await update(a, keys[0], nonce)).body.errors[0]).toMatch(/already been provided/);
    const done = await update(a, keys[2], nonce);
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ started: true, complete: true, nonce, progress: 2 });
    expect(done.body.encoded_root_token).toBe(done.body.encoded_token);
    const token = decodeRootToken(done.body.encoded_token, otp);
    const self = await send(b.url, 'GET', 'auth/token/lookup-self', { token });
    expect(self.status).toBe(200);
    expect(self.body.data).toMatchObject({
      policies: ['root'],
      display_name: 'root',
      path: 'auth/token/root',
    });
    // The attempt is over: its nonce counts for nothing.
    expect((await update(a, keys[1], nonce)).body.errors).toEqual([
      'no root generation in progress',
    ]);
    expect((await attempt(a, 'GET')).body.started).toBe(false);
  });

  it('takes an OTP of the right length, refuses others and PGP keys; cancel ends the attempt', async () => {
    const wrongOtp = `OTP string is wrong length (an OTP is ${ROOT_TOKEN_OTP_LENGTH} letters and digits)`;
    // Not base62, the stray character at either end.
    const notBase62 = [`${generateOtp().slice(1)}!`, `!${generateOtp().slice(1)}`];
    for (const otp of ['short', `${generateOtp()}x`, ...notBase62])
      expect(await attempt(a, 'POST', { otp })).toMatchObject({
        status: 400,
        body: { errors: [wrongOtp] },
      });
    expect((await attempt(a, 'POST', { pgp_key: 'a2V5' })).status).toBe(400);
    expect((await attempt(a, 'GET')).body.started).toBe(false);
    const otp = generateOtp();
    const started = await attempt(a, 'POST', { otp });
    expect(started.body.otp).toBe('');
    expect((await update(a, keys[1], started.body.nonce)).body.progress).toBe(1);
    expect((await attempt(b, 'DELETE')).status).toBe(204);
    expect((await attempt(a, 'GET')).body.started).toBe(false);
    expect((await update(a, keys[2], started.body.nonce)).body.errors).toEqual([
      'no root generation in progress',
    ]);
    // Again with the caller's OTP, to the end; shares of another deployment reset progress.
    const again = await attempt(a, 'POST', { otp });
    const other = await createTestStorage('sqlite');
    const stranger = await startSealedServer(other.location);
    try {
      const foreign = (await initOverHttp(stranger)).keys;
      expect((await update(a, keys[0], again.body.nonce)).body.progress).toBe(1);
      const failed = await update(
        a,
        shareWithOtherIndex(foreign, [keys[0] as string]),
        again.body.nonce,
      );
      expect(failed.status).toBe(400);
      expect(failed.body.errors[0]).toMatch(/do not reproduce the root key/);
    } finally {
      await stranger.close();
      await other.cleanup();
    }
    expect((await attempt(a, 'GET')).body.progress).toBe(0);
    await update(a, keys[0], again.body.nonce);
    const done = await update(a, keys[1], again.body.nonce);
    const token = decodeRootToken(done.body.encoded_token, otp);
    expect((await send(a.url, 'GET', 'auth/token/lookup-self', { token })).status).toBe(200);
  });
  it('reports only the progress of the attempt in storage, and forgets its own at a seal', async () => {
    const first = await attempt(a, 'POST', {});
    expect((await update(a, keys[0], first.body.nonce)).body.progress).toBe(1);
    // Another server cancels it and starts its own: this one's progress is of no attempt now.
    expect((await attempt(b, 'DELETE')).status).toBe(204);
    const second = await attempt(b, 'POST', {});
    expect((await attempt(a, 'GET')).body).toMatchObject({
      started: true,
      nonce: second.body.nonce,
      progress: 0,
    });
    expect((await update(b, keys[0], second.body.nonce)).body.progress).toBe(1);
    expect((await attempt(b, 'GET')).body.progress).toBe(1);
    // A seal drops the progress this server held: unsealed again, it holds none for the attempt.
    expect((await send(b.url, 'POST', 'sys/seal', { token: rootToken })).status).toBe(204);
    expect((await unsealOverHttp(b, keys)).body.sealed).toBe(false);
    expect((await attempt(b, 'GET')).body).toMatchObject({ started: true, progress: 0 });
    expect((await update(b, keys[1], second.body.nonce)).body.errors[0]).toMatch(
      /^this server holds no progress for the root generation in progress/,
    );
    expect((await attempt(b, 'DELETE')).status).toBe(204);
  });
  it('refuses shares for an attempt whose start was overtaken on this server by a cancel and a new start', async () => {
    // The start of attempt X is committed, then its answer is held back; meanwhile X is
    // cancelled and attempt Y started on the same server. When X's start ends, the progress
    // this server holds is X's, but storage holds Y: shares for X must go nowhere.
    const { store, holdNextInsert } = storeHoldingAnInsert(a);
    const generate = new GenerateRoot(a.context.seal, store, a.context.tokens);
    const release = holdNextInsert();
    const starting = generate.init(undefined);
    await vi.waitFor(async () => expect((await generate.status()).started).toBe(true));
    await generate.cancel();
    const second = await generate.init(undefined);
    release();
    const first = await starting;
    // Both answers name the attempt in storage, Y.
    expect(first.nonce).toBe(second.nonce);
    expect(await generate.status()).toMatchObject({ nonce: second.nonce, progress: 0 });
    // One attempt at a time, refused by its name.
    await expect(generate.init(undefined)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'root generation already in progress',
    });
    for (const nonce of [second.nonce, 'another']) {
      await expect(
        generate.update(Buffer.from(keys[0] as string, 'hex'), nonce),
      ).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
        message: expect.stringMatching(/^this server holds no progress for the root generation/),
      });
    }
    await generate.cancel();
    expect((await attempt(a, 'GET')).body.started).toBe(false);
  });
});
