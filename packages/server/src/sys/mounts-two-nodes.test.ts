import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import {
  type InitResult,
  initOverHttp,
  startSealedServer,
  unsealOverHttp,
} from '../../test/seal.js';
import type { RunningServer } from '../server.js';

/** Two servers on one database (PostgreSQL, or one SQLite file), as two nodes of a deployment. */
describe.each(await storageKinds())('the mount table across two nodes on %s', (kind) => {
  let storage: TestStorage;
  let init: InitResult;
  const nodes: RunningServer[] = [];
  const request = (node: number, method: string, path: string, body?: unknown) =>
    send((nodes[node] as RunningServer).url, method, path, {
      token: init.rootToken,
      ...(body === undefined ? {} : { body }),
    });

  beforeAll(async () => {
    storage = await createTestStorage(kind);
    const first = await startSealedServer(storage.location);
    init = await initOverHttp(first);
    await first.close();
    for (let i = 0; i < 2; i++) {
      const server = await startSealedServer(storage.location);
      nodes.push(server);
      expect((await unsealOverHttp(server, init.keys)).body.sealed).toBe(false);
    }
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    await storage.cleanup();
  });

  it('both start with one table: the same secret/ mount', async () => {
    const [a, b] = [await request(0, 'GET', 'sys/mounts'), await request(1, 'GET', 'sys/mounts')];
    expect(a.body.data['secret/'].uuid).toBe(b.body.data['secret/'].uuid);
  });

  it('a mount enabled on one node is served by the other at its next request', async () => {
    // Node b reads the table first, so it holds the table from before the change.
    expect((await request(1, 'GET', 'shared/x')).status).toBe(404);
    expect(
      (await request(0, 'POST', 'sys/mounts/shared', { type: 'kv', options: { version: '1' } }))
        .status,
    ).toBe(204);
    expect((await request(1, 'POST', 'shared/x', { v: 'from b' })).status).toBe(204);
    expect((await request(0, 'GET', 'shared/x')).body.data).toEqual({ v: 'from b' });
    expect(Object.keys((await request(1, 'GET', 'sys/mounts')).body.data)).toContain('shared/');
  });

  it('a remount on one node moves the mount for the other', async () => {
    expect((await request(0, 'POST', 'sys/remount', { from: 'shared', to: 'moved' })).status).toBe(
      200,
    );
    expect((await request(1, 'GET', 'moved/x')).body.data).toEqual({ v: 'from b' });
    expect((await request(1, 'GET', 'shared/x')).body.errors[0]).toMatch(/no handler/);
  });

  it('a mount disabled on one node is gone, with its data, on the other', async () => {
    expect((await request(1, 'DELETE', 'sys/mounts/moved')).status).toBe(204);
    expect((await request(0, 'GET', 'moved/x')).body.errors[0]).toMatch(/no handler/);
    await request(0, 'POST', 'sys/mounts/moved', { type: 'kv-v1' });
    expect((await request(1, 'GET', 'moved/x')).status).toBe(404);
    expect((await request(1, 'LIST', 'moved/')).status).toBe(404);
  });

  it('concurrent enables on both nodes all land in the one table', async () => {
    const names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
    const results = await Promise.all(
      names.map((name, i) => request(i % 2, 'POST', `sys/mounts/${name}`, { type: 'kv-v2' })),
    );
    expect(results.map((r) => `${r.status} ${r.text}`)).toEqual(names.map(() => '204 '));
    const listed = Object.keys((await request(1, 'GET', 'sys/mounts')).body.data);
    for (const name of names) expect(listed).toContain(`${name}/`);
  });
  it('a transit mount enabled on one node serves its keys on the other, and goes from both', async () => {
    expect(
      (await request(0, 'POST', 'sys/mounts/shared-transit', { type: 'transit' })).status,
    ).toBe(204);
    expect((await request(1, 'POST', 'shared-transit/keys/k')).status).toBe(200);
    const plaintext = Buffer.from('both nodes').toString('base64');
    const encrypted = await request(0, 'POST', 'shared-transit/encrypt/k', { plaintext });
    expect(encrypted.status).toBe(200);
    const decrypted = await request(1, 'POST', 'shared-transit/decrypt/k', {
      ciphertext: encrypted.body.data.ciphertext,
    });
    expect(decrypted.body.data.plaintext).toBe(plaintext);
    // Rotated on one node, the other encrypts with the new version at once.
    expect((await request(0, 'POST', 'shared-transit/keys/k/rotate')).status).toBe(200);
    expect(
      (await request(1, 'POST', 'shared-transit/encrypt/k', { plaintext })).body.data.ciphertext,
    ).toMatch(/^vault:v2:/);
    expect((await request(1, 'DELETE', 'sys/mounts/shared-transit')).status).toBe(204);
    expect((await request(0, 'GET', 'shared-transit/keys/k')).status).toBe(404);
  });

  it('a mount of several segments enabled, moved and disabled on one node is routed so on the other', async () => {
    // Node b reads the table first, so it holds the table from before the change.
    expect((await request(1, 'GET', 'deep/a/kv/data/x')).body.errors[0]).toMatch(/no handler/);
    expect((await request(0, 'POST', 'sys/mounts/deep/a/kv', { type: 'kv-v2' })).status).toBe(204);
    expect((await request(1, 'POST', 'deep/a/kv/data/x', { data: { v: 'b' } })).status).toBe(200);
    expect((await request(0, 'GET', 'deep/a/kv/data/x')).body.data.data).toEqual({ v: 'b' });
    // The other node refuses a mount around it: it judges clashes on the current table.
    expect((await request(1, 'POST', 'sys/mounts/deep', { type: 'kv' })).body.errors).toEqual([
      'path is already in use at deep/a/kv/',
    ]);
    expect(
      (await request(1, 'POST', 'sys/remount', { from: 'deep/a/kv', to: 'deep/b/c/kv' })).status,
    ).toBe(200);
    expect((await request(0, 'GET', 'deep/b/c/kv/data/x')).body.data.data).toEqual({ v: 'b' });
    expect((await request(0, 'GET', 'deep/a/kv/data/x')).body.errors[0]).toMatch(/no handler/);
    expect((await request(0, 'DELETE', 'sys/mounts/deep/b/c/kv')).status).toBe(204);
    expect((await request(1, 'GET', 'deep/b/c/kv/data/x')).body.errors[0]).toMatch(/no handler/);
  });
});
