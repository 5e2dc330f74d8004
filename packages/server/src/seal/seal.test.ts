import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import { sealedAnswers } from '../../test/seal.js';
import { type RunningServer, startServer } from '../server.js';

// Each test starts from a server of its own (mutation testing runs a test alone: none may need
// what an earlier one left behind).
describe.each(await storageKinds())('seal, init and restart on %s (production mode)', (kind) => {
  const storages: TestStorage[] = [];
  /** The server a test started last: closed after it. */
  let running: RunningServer | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
    for (const storage of storages.splice(0)) await storage.cleanup();
  });

  /** A production-mode server on storage of its own: sealed and not initialised. */
  const fresh = async () => {
    const storage = await createTestStorage(kind);
    storages.push(storage);
    running = await startServer({ storage: storage.location, port: 0, logLevel: 'silent' });
    return { server: running, storage };
  };

  /** {@link fresh}, initialised with five shares and a threshold of three; still sealed. */
  const initialised = async () => {
    const { server, storage } = await fresh();
    const init = await send(server.url, 'POST', 'sys/init', {
      body: { secret_shares: 5, secret_threshold: 3 },
    });
    expect(init.status).toBe(200);
    return {
      server,
      storage,
      keys: init.body.keys as string[],
      rootToken: init.body.root_token as string,
    };
  };

  /** The server on `storage` stopped and started again: it comes back sealed. */
  const restart = async (storage: TestStorage): Promise<RunningServer> => {
    await running?.close();
    running = await startServer({ storage: storage.location, port: 0, logLevel: 'silent' });
    return running;
  };

  /** {@link initialised}, unsealed with the first three shares, holding `secret/persist/me`. */
  const unsealedWithData = async () => {
    const node = await initialised();
    for (const key of node.keys.slice(0, 3))
      await send(node.server.url, 'POST', 'sys/unseal', { body: { key } });
    const written = await send(node.server.url, 'POST', 'secret/data/persist/me', {
      token: node.rootToken,
      body: { data: { kept: 'yes' } },
    });
    expect(written.status).toBe(200);
    return node;
  };

  it('reports 501 before init, and refuses secret operations', async () => {
    const { server } = await fresh();
    expect((await send(server.url, 'GET', 'sys/health')).status).toBe(501);
    expect((await send(server.url, 'GET', 'sys/seal-status')).body).toMatchObject({
      initialized: false,
      sealed: true,
    });
    expect((await send(server.url, 'GET', 'secret/data/x', { token: 'anything' })).status).toBe(
      503,
    );
    const refused = await sealedAnswers(server, 'anything', 'Vault is not initialized');
    expect(refused.wrong).toEqual([]);
  });

  it('refuses bad share counts, then initialises once', async () => {
    const { server } = await fresh();
    for (const bad of [
      { secret_shares: 3, secret_threshold: 4 },
      { secret_shares: 3, secret_threshold: 1 },
      { secret_shares: 0, secret_threshold: 0 },
      { secret_shares: '3', secret_threshold: 2 },
    ]) {
      expect((await send(server.url, 'POST', 'sys/init', { body: bad })).status).toBe(400);
    }
    // A real PGP key (or recovery share count) is refused; nothing is initialised.
    for (const [field, value] of [
      ['pgp_keys', ['a2V5']],
      ['root_token_pgp_key', 'a2V5'],
      ['recovery_pgp_keys', ['a2V5']],
      ['stored_shares', 1],
    ] as const) {
      const refused = await send(server.url, 'POST', 'sys/init', {
        body: { secret_shares: 5, secret_threshold: 3, [field]: value },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toBe(`${field} is not supported by custos`);
    }
    // Recovery share counts apply only with an auto-unseal seal.
    for (const [field, value] of [
      ['recovery_shares', 3],
      ['recovery_threshold', 2],
    ] as const) {
      const refused = await send(server.url, 'POST', 'sys/init', {
        body: { secret_shares: 5, secret_threshold: 3, [field]: value },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toBe(
        `${field} applies only with an auto-unseal seal: give secret_shares and secret_threshold`,
      );
    }
    expect((await send(server.url, 'GET', 'sys/init')).body.initialized).toBe(false);
    // The body Vault's Go client and CLI send (absent-equivalent values for what custos lacks).
    const init = await send(server.url, 'POST', 'sys/init', {
      body: {
        secret_shares: 5,
        secret_threshold: 3,
        stored_shares: 0,
        pgp_keys: null,
        recovery_shares: 0,
        recovery_threshold: 0,
        recovery_pgp_keys: null,
        root_token_pgp_key: '',
      },
    });
    expect(init.status).toBe(200);
    expect(init.body.keys).toHaveLength(5);
    expect(init.body.keys_base64).toHaveLength(5);
    const again = await send(server.url, 'POST', 'sys/init', {
      body: { secret_shares: 1, secret_threshold: 1 },
    });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ errors: ['Vault is already initialized'] });
    expect((await send(server.url, 'GET', 'sys/health')).status).toBe(503);
  });

  it('answers 503 on every route not marked usable while sealed (walking the route table)', async () => {
    const { server, rootToken } = await initialised();
    const refused = await sealedAnswers(server, rootToken);
    expect(refused.checked).toBeGreaterThan(60);
    expect(refused.wrong).toEqual([]);
  });

  it('rejects duplicated and malformed shares and keeps progress', async () => {
    const { server, keys } = await initialised();
    expect(
      (await send(server.url, 'POST', 'sys/unseal', { body: { key: keys[0] } })).body.progress,
    ).toBe(1);
    const duplicate = await send(server.url, 'POST', 'sys/unseal', { body: { key: keys[0] } });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.errors[0]).toMatch(/already provided/);
    const short = await send(server.url, 'POST', 'sys/unseal', { body: { key: 'abcd' } });
    expect(short.body.errors[0]).toMatch(/41 bytes/);
    expect(
      (await send(server.url, 'POST', 'sys/unseal', { body: { key: 'not hex or base64 !' } }))
        .status,
    ).toBe(400);
    expect((await send(server.url, 'GET', 'sys/seal-status')).body.progress).toBe(1);
    expect(
      (await send(server.url, 'POST', 'sys/unseal', { body: { reset: true } })).body.progress,
    ).toBe(0);
  });

  it('detects a share combination that does not reproduce the root key, and does not unseal', async () => {
    const { server, keys } = await initialised();
    const forged = Buffer.from(keys[2] as string, 'hex');
    forged[5] = (forged[5] as number) ^ 0xff;
    await send(server.url, 'POST', 'sys/unseal', { body: { key: keys[0] } });
    await send(server.url, 'POST', 'sys/unseal', { body: { key: keys[1] } });
    const wrong = await send(server.url, 'POST', 'sys/unseal', {
      body: { key: forged.toString('hex') },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatch(/do not reproduce the root key/);
    const status = await send(server.url, 'GET', 'sys/seal-status');
    expect(status.body).toMatchObject({ sealed: true, progress: 0 });
  });

  it('unseals with any threshold of shares and keeps the data across a restart, coming back sealed', async () => {
    const node = await initialised();
    const { storage, keys, rootToken } = node;
    let server = node.server;
    for (const key of [keys[4], keys[1], keys[3]])
      await send(server.url, 'POST', 'sys/unseal', { body: { key } });
    expect((await send(server.url, 'GET', 'sys/health')).status).toBe(200);
    // Unsealed, Vault's status names the cluster (typed clients require both fields).
    const unsealed = (await send(server.url, 'GET', 'sys/seal-status')).body;
    expect(unsealed).toMatchObject({ sealed: false, cluster_name: 'custos' });
    expect(typeof unsealed.cluster_id).toBe('string');
    await send(server.url, 'POST', 'secret/data/persist/me', {
      token: rootToken,
      body: { data: { kept: 'yes' } },
    });

    server = await restart(storage);
    expect((await send(server.url, 'GET', 'sys/health')).status).toBe(503);
    expect(
      (await send(server.url, 'GET', 'secret/data/persist/me', { token: rootToken })).status,
    ).toBe(503);
    for (const key of keys.slice(0, 3)) {
      await send(server.url, 'POST', 'sys/unseal', {
        body: { key: Buffer.from(key, 'hex').toString('base64') },
      });
    }
    const read = await send(server.url, 'GET', 'secret/data/persist/me', { token: rootToken });
    expect(read.body.data.data).toEqual({ kept: 'yes' });
  });

  it('seals on request (sudo) and drops the keys: reads answer 503 again', async () => {
    const { server, rootToken } = await unsealedWithData();
    expect(
      (await send(server.url, 'GET', 'secret/data/persist/me', { token: rootToken })).status,
    ).toBe(200);
    expect((await send(server.url, 'POST', 'sys/seal', { token: rootToken })).status).toBe(204);
    // The seal starts once the response is sent.
    await vi.waitFor(() => expect(server.context.seal.phase()).toBe('sealed'), { timeout: 15_000 });
    expect(() => server.context.seal.keyring()).toThrow(
      expect.objectContaining({ code: 'ERR_SEALED' }),
    );
    expect(
      (await send(server.url, 'GET', 'secret/data/persist/me', { token: rootToken })).status,
    ).toBe(503);
  });

  it('rotates the barrier key: old entries still decrypt, new ones use the new version', async () => {
    const node = await unsealedWithData();
    const { storage, keys, rootToken } = node;
    let server = node.server;
    expect(
      (await send(server.url, 'GET', 'sys/key-status', { token: rootToken })).body.data.term,
    ).toBe(1);
    expect((await send(server.url, 'POST', 'sys/rotate', { token: rootToken })).status).toBe(204);
    expect(
      (await send(server.url, 'GET', 'sys/key-status', { token: rootToken })).body.data.term,
    ).toBe(2);
    expect(
      (await send(server.url, 'GET', 'secret/data/persist/me', { token: rootToken })).body.data
        .data,
    ).toEqual({ kept: 'yes' });
    await send(server.url, 'POST', 'secret/data/persist/new', {
      token: rootToken,
      body: { data: { v: 2 } },
    });
    server = await restart(storage);
    for (const key of keys.slice(2, 5))
      await send(server.url, 'POST', 'sys/unseal', { body: { key } });
    expect(
      (await send(server.url, 'GET', 'secret/data/persist/new', { token: rootToken })).body.data
        .data,
    ).toEqual({ v: 2 });
    expect(
      (await send(server.url, 'GET', 'secret/data/persist/me', { token: rootToken })).body.data
        .data,
    ).toEqual({ kept: 'yes' });
  });
});
