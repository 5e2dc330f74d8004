import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, startServer } from '../../src/server.js';
import { createTestStorage, storageKinds, type TestStorage } from '../harness.js';

type Vault = ReturnType<typeof nodeVault>;

/** The error node-vault throws carries the server's first error text and the response. */
async function failure(promise: Promise<unknown>): Promise<{ message: string; status: number }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { message: string; response?: { statusCode: number } };
    return { message: e.message, status: e.response?.statusCode ?? 0 };
  }
  throw new Error('expected the call to fail');
}

describe.each(await storageKinds())(
  'node-vault (a real Vault client from npm) against custos on %s',
  (kind) => {
    let storage: TestStorage;
    let server: RunningServer;
    let vault: Vault;
    let rootToken: string;

    beforeAll(async () => {
      storage = await createTestStorage(kind);
      server = await startServer({ storage: storage.location, port: 0, logLevel: 'silent' });
      vault = nodeVault({ endpoint: server.url });
    });
    afterAll(async () => {
      await server.close();
      await storage.cleanup();
    });

    it('initialises and unseals through sys/init and sys/unseal', async () => {
      expect(await vault.initialized()).toEqual({ initialized: false });
      const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
      expect(init.keys).toHaveLength(3);
      rootToken = init.root_token;
      expect((await vault.status()).sealed).toBe(true);
      expect((await vault.unseal({ key: init.keys[0] })).progress).toBe(1);
      const done = await vault.unseal({ key: init.keys_base64[2] });
      expect(done).toMatchObject({ sealed: false, t: 2, n: 3 });
      vault.token = rootToken;
      expect(await vault.health()).toMatchObject({ initialized: true, sealed: false });
    });

    it('writes, reads versions, patches and lists KV v2 secrets', async () => {
      const first = await vault.write('secret/data/app/db', {
        data: { user: 'app', password: 'one' },
        options: { cas: 0 },
      });
      expect(first.data.version).toBe(1);
      expect(
        await failure(vault.write('secret/data/app/db', { data: { x: 1 }, options: { cas: 0 } })),
      ).toMatchObject({
        status: 400,
        message: 'check-and-set parameter did not match the current version',
      });
      await vault.write('secret/data/app/db', {
        data: { user: 'app', password: 'two' },
        options: { cas: 1 },
      });
      expect((await vault.read('secret/data/app/db')).data.data.password).toBe('two');
      expect((await vault.read('secret/data/app/db?version=1')).data.data.password).toBe('one');

      const patched = await vault.update('secret/data/app/db', { data: { password: 'three' } });
      expect(patched.data.version).toBe(3);
      expect((await vault.read('secret/data/app/db')).data.data).toEqual({
        user: 'app',
        password: 'three',
      });

      await vault.write('secret/data/app/cache', { data: { url: 'redis://x' } });
      // node-vault sends the LIST verb.
      expect((await vault.list('secret/metadata/app')).data.keys).toEqual(['cache', 'db']);
      // The mount root, as node-vault spells it (no trailing slash).
      expect((await vault.list('secret/metadata')).data.keys).toEqual(['app/']);
    });

    it('deletes, undeletes and destroys versions; reads metadata', async () => {
      await vault.delete('secret/data/app/db');
      expect((await failure(vault.read('secret/data/app/db'))).status).toBe(404);
      await vault.write('secret/undelete/app/db', { versions: [3] });
      expect((await vault.read('secret/data/app/db')).data.data.password).toBe('three');
      await vault.write('secret/destroy/app/db', { versions: [1] });
      const meta = await vault.read('secret/metadata/app/db');
      expect(meta.data.current_version).toBe(3);
      expect(meta.data.versions['1'].destroyed).toBe(true);
      expect((await failure(vault.read('secret/data/app/db?version=1'))).status).toBe(404);
      await vault.write('secret/metadata/app/db', {
        max_versions: 5,
        custom_metadata: { owner: 'ops' },
      });
      expect((await vault.read('secret/metadata/app/db')).data).toMatchObject({
        max_versions: 5,
        custom_metadata: { owner: 'ops' },
      });
      await vault.delete('secret/metadata/app/db');
      expect((await failure(vault.read('secret/metadata/app/db'))).status).toBe(404);
    });

    it('manages policies and tokens; a reader token can read but not write', async () => {
      await vault.addPolicy({
        name: 'reader',
        rules: JSON.stringify({ path: { 'secret/data/app/*': { capabilities: ['read'] } } }),
      });
      expect((await vault.getPolicy({ name: 'reader' })).rules).toContain('secret/data/app/*');
      const other = nodeVault({ endpoint: server.url, token: rootToken });
      const created = await other.tokenCreate({ policies: ['reader'], ttl: '1h' });
      const reader = nodeVault({ endpoint: server.url, token: created.auth.client_token });
      expect((await reader.read('secret/data/app/cache')).data.data.url).toBe('redis://x');
      expect(
        await failure(reader.write('secret/data/app/cache', { data: { url: 'y' } })),
      ).toMatchObject({
        status: 403,
        message: 'permission denied',
      });
      const self = await reader.tokenLookupSelf();
      expect(self.data.policies).toEqual(['default', 'reader']);
      await reader.tokenRevokeSelf();
      expect((await failure(reader.read('secret/data/app/cache'))).status).toBe(403);
    });

    it('logs machines in with AppRole', async () => {
      await vault.write('auth/approle/role/ci', {
        token_policies: ['reader'],
        secret_id_num_uses: 1,
        token_ttl: '10m',
      });
      const roleId = (await vault.read('auth/approle/role/ci/role-id')).data.role_id;
      const secretId = (await vault.write('auth/approle/role/ci/secret-id', {})).data.secret_id;
      const machine = nodeVault({ endpoint: server.url });
      const login = await machine.approleLogin({ role_id: roleId, secret_id: secretId });
      expect(login.auth.policies).toEqual(['default', 'reader']);
      expect((await machine.read('secret/data/app/cache')).data.data.url).toBe('redis://x');
      // The secret ID allowed one use.
      expect(
        (
          await failure(
            nodeVault({ endpoint: server.url }).approleLogin({
              role_id: roleId,
              secret_id: secretId,
            }),
          )
        ).status,
      ).toBe(400);
    });

    it('enables, moves and disables mounts and auth methods; KV version 1 reads and writes', async () => {
      await vault.mount({ mount_point: 'legacy', type: 'kv', description: 'v1' });
      expect((await vault.mounts()).data['legacy/']).toMatchObject({
        type: 'kv',
        options: { version: '1' },
      });
      await vault.write('legacy/app', { url: 'redis://y' });
      expect((await vault.read('legacy/app')).data).toEqual({ url: 'redis://y' });
      expect((await vault.list('legacy/')).data.keys).toEqual(['app']);
      // A version 1 read on the version 2 mount: Vault's 404 that tells the versions apart.
      expect((await failure(vault.read('secret/app/cache'))).status).toBe(404);
      await vault.remount({ from: 'legacy', to: 'old' });
      expect((await vault.read('old/app')).data).toEqual({ url: 'redis://y' });
      await vault.unmount({ mount_point: 'old' });
      expect((await failure(vault.read('old/app'))).status).toBe(404);

      await vault.enableAuth({ mount_point: 'machines', type: 'approle' });
      expect(Object.keys((await vault.auths()).data)).toContain('machines/');
      await vault.write('auth/machines/role/ci', { token_policies: ['reader'] });
      const roleId = (await vault.read('auth/machines/role/ci/role-id')).data.role_id;
      const secretId = (await vault.write('auth/machines/role/ci/secret-id', {})).data.secret_id;
      const login = await nodeVault({ endpoint: server.url }).approleLogin({
        mount_point: 'machines',
        role_id: roleId,
        secret_id: secretId,
      });
      expect(login.auth.policies).toEqual(['default', 'reader']);
      const machine = nodeVault({ endpoint: server.url, token: login.auth.client_token });
      expect((await machine.tokenLookupSelf()).data.path).toBe('auth/machines/login');
      await vault.disableAuth({ mount_point: 'machines' });
      expect(Object.keys((await vault.auths()).data)).not.toContain('machines/');
      // The method's tokens went with it.
      expect((await failure(machine.tokenLookupSelf())).status).toBe(403);
    });

    it('serves transit at a mount of its own, with its own keys', async () => {
      await vault.mount({ mount_point: 'team-transit', type: 'transit' });
      expect((await vault.mounts()).data['team-transit/']).toMatchObject({ type: 'transit' });
      await vault.write('team-transit/keys/orders', {});
      const plaintext = Buffer.from('order 42').toString('base64');
      const encrypted = await vault.write('team-transit/encrypt/orders', { plaintext });
      expect(encrypted.mount_type).toBe('transit');
      const decrypted = await vault.write('team-transit/decrypt/orders', {
        ciphertext: encrypted.data.ciphertext,
      });
      expect(decrypted.data.plaintext).toBe(plaintext);
      // transit/ (node-vault's transit calls) does not have the key.
      expect((await failure(vault.transitReadKey({ name: 'orders' }))).status).toBe(404);
      await vault.transitCreateKey({ name: 'orders' });
      expect(
        (
          await failure(
            vault.decryptData({ name: 'orders', ciphertext: encrypted.data.ciphertext }),
          )
        ).status,
      ).toBe(400);
      await vault.unmount({ mount_point: 'team-transit' });
      expect((await failure(vault.read('team-transit/keys/orders'))).status).toBe(404);
    });

    it('writes and reads a KV v2 secret on a mount of two segments, and an AppRole at one', async () => {
      await vault.mount({ mount_point: 'teams/kv', type: 'kv', options: { version: '2' } });
      expect((await vault.mounts()).data['teams/kv/']).toMatchObject({
        type: 'kv',
        options: { version: '2' },
      });
      const written = await vault.write('teams/kv/data/app/db', { data: { user: 'app' } });
      expect(written.data.version).toBe(1);
      const read = await vault.read('teams/kv/data/app/db');
      expect(read.data.data).toEqual({ user: 'app' });
      expect(read.mount_type).toBe('kv');
      expect((await vault.list('teams/kv/metadata/app')).data.keys).toEqual(['db']);
      // A mount inside it, or around it, is refused with Vault's text.
      const nested = await failure(vault.mount({ mount_point: 'teams/kv/inner', type: 'kv' }));
      expect(nested).toEqual({ status: 400, message: 'path is already in use at teams/kv/' });
      await vault.remount({ from: 'teams/kv', to: 'teams/deeper/kv' });
      expect((await vault.read('teams/deeper/kv/data/app/db')).data.data).toEqual({ user: 'app' });
      await vault.unmount({ mount_point: 'teams/deeper/kv' });
      expect((await failure(vault.read('teams/deeper/kv/data/app/db'))).status).toBe(404);

      await vault.enableAuth({ mount_point: 'ci/machines', type: 'approle' });
      await vault.write('auth/ci/machines/role/build', { token_policies: ['reader'] });
      const roleId = (await vault.read('auth/ci/machines/role/build/role-id')).data.role_id;
      const secretId = (await vault.write('auth/ci/machines/role/build/secret-id', {})).data
        .secret_id;
      const login = await nodeVault({ endpoint: server.url }).approleLogin({
        mount_point: 'ci/machines',
        role_id: roleId,
        secret_id: secretId,
      });
      expect(login.auth.policies).toEqual(['default', 'reader']);
      await vault.disableAuth({ mount_point: 'ci/machines' });
    });

    it('revokes a token but not its children (tokenRevokeOrphan), and tidies', async () => {
      // A child of the root token (with its policies), which creates a child of its own. (The
      // client switches to a token it creates: a client of its own does the creating.)
      const parent = (await nodeVault({ endpoint: server.url, token: rootToken }).tokenCreate({}))
        .auth.client_token;
      const child = (
        await nodeVault({ endpoint: server.url, token: parent }).tokenCreate({
          policies: ['reader'],
        })
      ).auth.client_token;
      await vault.tokenRevokeOrphan({ token: parent });
      expect((await failure(vault.tokenLookup({ token: parent }))).status).toBe(400);
      expect((await vault.tokenLookup({ token: child })).data.orphan).toBe(true);
      // Vault answers tidy 202, which node-vault reports as an error carrying the response.
      const tidied = await vault.write('auth/token/tidy', {}).then(
        () => undefined,
        (err: { response?: { statusCode: number; body: { warnings: string[] } } }) => err.response,
      );
      expect(tidied?.statusCode).toBe(202);
      expect(tidied?.body.warnings[0]).toMatch(/^Tidy operation successfully started/);
    });

    it('seals: every secret operation answers 503 until unsealed again', async () => {
      await vault.seal();
      // The server seals once the response is sent: wait for that, not for a fixed time.
      await vi.waitFor(async () => expect((await vault.status()).sealed).toBe(true), {
        timeout: 10_000,
      });
      expect(await failure(vault.read('secret/data/app/cache'))).toMatchObject({
        status: 503,
        message: 'Vault is sealed',
      });
      expect((await vault.status()).sealed).toBe(true);
    });
  },
);
