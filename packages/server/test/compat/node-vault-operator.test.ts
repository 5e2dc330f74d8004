import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRootToken } from '../../src/seal/root-token-otp.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { createTestStorage, storageKinds, type TestStorage } from '../harness.js';

type Vault = ReturnType<typeof nodeVault>;

describe.each(await storageKinds())(
  'node-vault operator calls and response wrapping against custos on %s',
  (kind) => {
    let storage: TestStorage;
    let server: RunningServer;
    let vault: Vault;
    let keys: string[];

    beforeAll(async () => {
      storage = await createTestStorage(kind);
      server = await startServer({ storage: storage.location, port: 0, logLevel: 'silent' });
      vault = nodeVault({ endpoint: server.url });
      const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
      keys = init.keys;
      vault.token = init.root_token;
      for (const key of keys.slice(0, 2)) await vault.unseal({ key });
    });
    afterAll(async () => {
      await server.close();
      await storage.cleanup();
    });

    it('delivers an AppRole secret ID wrapped, unwrapped by the job with node-vault', async () => {
      await vault.write('auth/approle/role/ci', { token_policies: 'default' });
      const roleId = (await vault.read('auth/approle/role/ci/role-id')).data.role_id;
      const wrapped = await vault.write(
        'auth/approle/role/ci/secret-id',
        {},
        { headers: { 'X-Vault-Wrap-TTL': '60s' } },
      );
      expect(wrapped.wrap_info.ttl).toBe(60);
      expect(wrapped.data).toBeNull();
      const job = nodeVault({ endpoint: server.url, token: wrapped.wrap_info.token });
      const unwrapped = await job.unwrap();
      const login = await job.approleLogin({
        role_id: roleId,
        secret_id: unwrapped.data.secret_id,
      });
      expect(login.auth.client_token).toMatch(/^cst\./);
      // Replay of the used wrapping token.
      await expect(job.unwrap()).rejects.toThrow(/wrapping token is not valid or does not exist/);
    });

    it('generates a root token with generateRootInit / generateRootUpdate, and reads sys/leader', async () => {
      const started = await vault.generateRootInit({});
      expect(started.otp).toHaveLength(started.otp_length);
      await vault.generateRootUpdate({ key: keys[0], nonce: started.nonce });
      const done = await vault.generateRootUpdate({ key: keys[2], nonce: started.nonce });
      expect(done.complete).toBe(true);
      const token = decodeRootToken(done.encoded_token, started.otp);
      const lookup = await nodeVault({ endpoint: server.url, token }).tokenLookupSelf();
      expect(lookup.data.policies).toEqual(['root']);
      // On PostgreSQL the nodes sharing the database are an HA cluster (sys/leader.ts).
      expect(await vault.leader()).toMatchObject({ ha_enabled: kind === 'postgres' });
    });
  },
);
