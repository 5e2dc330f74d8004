import { randomBytes } from 'node:crypto';
import { Client } from '@litehex/node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server.js';
import { createTestStorage, storageKinds, type TestStorage } from '../harness.js';

/**
 * @litehex/node-vault is a second maintained Vault client from npm (typed, and it validates
 * every response against its own zod schema of Vault's answer, so a shape custos gets wrong
 * fails here). Its calls answer `{ data }` or `{ error }`; `ok` unwraps the first.
 */
function ok<T>(result: { data?: T; error?: unknown }): T {
  if (result.error !== undefined) {
    const e = result.error as { message?: string; cause?: unknown };
    throw new Error(`client call failed: ${e.message} ${JSON.stringify(e.cause ?? '')}`);
  }
  return result.data as T;
}

/** The error message of a call that must fail. */
function failed(result: { data?: unknown; error?: unknown }): string {
  expect(result.error).toBeDefined();
  return (result.error as Error).message;
}

// biome-ignore lint/suspicious/noExplicitAny: the client's generic read/write answer Vault's JSON
type Json = any;

describe.each(await storageKinds())(
  '@litehex/node-vault (a second real Vault client from npm) against custos on %s',
  (kind) => {
    let storage: TestStorage;
    let server: RunningServer;
    let vc: Client;

    beforeAll(async () => {
      storage = await createTestStorage(kind);
      server = await startServer({ storage: storage.location, port: 0, logLevel: 'silent' });
      vc = new Client({ endpoint: server.url });
      const init = ok(await vc.init({ secret_shares: 1, secret_threshold: 1 })) as Json;
      ok(await vc.unseal({ key: init.keys[0] }));
      vc.token = init.root_token;
    });
    afterAll(async () => {
      await server.close();
      await storage.cleanup();
    });

    it('KV version 2: write, read, list, metadata, delete', async () => {
      const password = randomBytes(12).toString('hex');
      const written = ok(
        await vc.kv2.write({ mountPath: 'secret', path: 'app/db', data: { password } }),
      ) as Json;
      expect(written.data.version).toBe(1);
      ok(
        await vc.kv2.write({ mountPath: 'secret', path: 'app/cache', data: { url: 'redis://x' } }),
      );
      const read = ok(await vc.kv2.read({ mountPath: 'secret', path: 'app/db' })) as Json;
      expect(read.data.data).toEqual({ password });
      expect(read.data.metadata.version).toBe(1);
      const list = ok(await vc.kv2.list({ mountPath: 'secret', path: 'app' })) as Json;
      expect(list.data.keys).toEqual(['cache', 'db']);
      const meta = ok(await vc.kv2.readMetadata({ mountPath: 'secret', path: 'app/db' })) as Json;
      expect(meta.data.current_version).toBe(1);
      expect(Object.keys(meta.data.versions)).toEqual(['1']);
      ok(await vc.kv2.deleteLatest({ mountPath: 'secret', path: 'app/db' }));
      const afterDelete = ok(await vc.kv2.readMetadata({ mountPath: 'secret', path: 'app/db' }));
      expect((afterDelete as Json).data.versions['1'].deletion_time).not.toBe('');
      ok(await vc.kv2.deleteMetadata({ mountPath: 'secret', path: 'app/db' }));
      const gone = await vc.kv2.readMetadata({ mountPath: 'secret', path: 'app/db' });
      expect(gone.error).toBeDefined();
    });

    it('sys/mounts: enables a KV version 1 mount that reads, writes, lists and deletes', async () => {
      ok(await vc.mount({ mountPath: 'legacy', type: 'kv', options: { version: '1' } }));
      // custos answers sys/mounts in `data` only (Vault also copies it to the top level:
      // docs/server-api.md, "Not compatible").
      const info = ok(await vc.engineInfo({ mountPath: 'legacy' })) as Json;
      expect(info.data).toMatchObject({ type: 'kv', options: { version: '1' } });
      const mounts = ok(await vc.mounts()) as Json;
      expect(mounts.data['legacy/']).toMatchObject({ type: 'kv' });
      ok(await vc.kv.write({ mountPath: 'legacy', path: 'app', data: { url: 'redis://y' } }));
      const read = ok(await vc.kv.read({ mountPath: 'legacy', path: 'app' })) as Json;
      expect(read.data).toEqual({ url: 'redis://y' });
      const list = ok(await vc.kv.list({ mountPath: 'legacy', path: '' })) as Json;
      expect(list.data.keys).toEqual(['app']);
      ok(await vc.kv.delete({ mountPath: 'legacy', path: 'app' }));
      expect(failed(await vc.kv.read({ mountPath: 'legacy', path: 'app' }))).toBeDefined();
      ok(await vc.unmount({ mountPath: 'legacy' }));
    });

    it('tokens: create, lookup, renew, revoke; a policy written in HCL governs the token', async () => {
      ok(
        await vc.write({
          path: 'sys/policies/acl/reader',
          data: { policy: 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n' },
        }),
      );
      const policy = ok(await vc.read({ path: 'sys/policies/acl/reader' })) as Json;
      expect(policy.data.policy).toContain('capabilities = ["read"]');

      const created = ok(
        await vc.write({
          path: 'auth/token/create',
          data: { policies: ['reader'], ttl: '1h', renewable: true },
        }),
      ) as Json;
      const token = created.auth.client_token as string;
      expect(created.auth.policies).toEqual(['default', 'reader']);
      const looked = ok(await vc.write({ path: 'auth/token/lookup', data: { token } })) as Json;
      expect(looked.data.policies).toEqual(['default', 'reader']);
      const renewed = ok(
        await vc.write({ path: 'auth/token/renew', data: { token, increment: '30m' } }),
      ) as Json;
      expect(renewed.auth.lease_duration).toBe(1800);

      const reader = new Client({ endpoint: server.url, token });
      const secret = ok(await reader.kv2.read({ mountPath: 'secret', path: 'app/cache' })) as Json;
      expect(secret.data.data.url).toBe('redis://x');
      // HCL granted read only.
      expect(
        failed(await reader.kv2.write({ mountPath: 'secret', path: 'app/cache', data: { x: 1 } })),
      ).toContain('permission denied');

      ok(await vc.write({ path: 'auth/token/revoke', data: { token } }));
      expect(failed(await reader.kv2.read({ mountPath: 'secret', path: 'app/cache' }))).toContain(
        'permission denied',
      );
    });

    it('AppRole: logs in with a secret ID delivered response-wrapped', async () => {
      ok(await vc.write({ path: 'auth/approle/role/ci', data: { token_policies: ['reader'] } }));
      const roleId = (ok(await vc.read({ path: 'auth/approle/role/ci/role-id' })) as Json).data
        .role_id;
      const wrapped = ok(
        await vc.write(
          { path: 'auth/approle/role/ci/secret-id', data: {} },
          { headers: { 'X-Vault-Wrap-TTL': '60s' } },
        ),
      ) as Json;
      expect(wrapped.data).toBeNull();
      const wrappingToken = wrapped.wrap_info.token as string;
      // The machine unwraps with the wrapping token alone.
      const machine = new Client({ endpoint: server.url, token: wrappingToken });
      const unwrapped = ok(await machine.write({ path: 'sys/wrapping/unwrap', data: {} })) as Json;
      const secretId = unwrapped.data.secret_id as string;
      // A wrapping token unwraps once.
      expect(failed(await machine.write({ path: 'sys/wrapping/unwrap', data: {} }))).toBeDefined();

      const login = ok(
        await new Client({ endpoint: server.url }).write({
          path: 'auth/approle/login',
          data: { role_id: roleId, secret_id: secretId },
        }),
      ) as Json;
      expect(login.auth.policies).toEqual(['default', 'reader']);
    });

    it('transit: creates a key, encrypts and decrypts, at transit/ and at another mount', async () => {
      // The client's schemas require Vault 1.15's `mount_type` in the envelope: validated here.
      const enabled = await fetch(`${server.url}/v1/sys/mounts/other-transit`, {
        method: 'POST',
        headers: { 'x-vault-token': vc.token ?? '' },
        body: JSON.stringify({ type: 'transit' }),
      });
      expect(enabled.status).toBe(204);
      for (const mountPath of ['transit', 'other-transit']) {
        ok(await vc.transit.createKey({ mountPath, name: 'orders' }));
        const plaintext = Buffer.from(randomBytes(16).toString('hex')).toString('base64');
        const enc = ok(await vc.transit.encrypt({ mountPath, name: 'orders', plaintext })) as Json;
        expect(enc.data.ciphertext).toMatch(/^vault:v1:/);
        expect(enc.mount_type).toBe('transit');
        const dec = ok(
          await vc.transit.decrypt({ mountPath, name: 'orders', ciphertext: enc.data.ciphertext }),
        ) as Json;
        expect(dec.data.plaintext).toBe(plaintext);
        const key = ok(await vc.transit.readKey({ mountPath, name: 'orders' })) as Json;
        expect(key.data.type).toBe('aes256-gcm96');
      }
    });
  },
);
