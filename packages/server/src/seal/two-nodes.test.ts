import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, send, storageKinds, type TestStorage } from '../../test/harness.js';
import {
  type InitResult,
  initOverHttp,
  startSealedServer,
  unsealOverHttp,
} from '../../test/seal.js';
import type { RunningServer } from '../server.js';

/**
 * Two servers on one database (PostgreSQL, or one SQLite file), as two nodes of a deployment:
 * each holds its own copy of the barrier keyring, and `core/keyring` is shared.
 */
describe.each(await storageKinds())('barrier key rotation across two nodes on %s', (kind) => {
  let storage: TestStorage;
  let init: InitResult;
  const nodes: { a?: RunningServer; b?: RunningServer } = {};
  const node = (name: 'a' | 'b') => nodes[name] as RunningServer;

  async function startNode(name: 'a' | 'b'): Promise<void> {
    await nodes[name]?.close();
    const server = await startSealedServer(storage.location);
    nodes[name] = server;
    expect((await unsealOverHttp(server, init.keys)).body.sealed).toBe(false);
  }
  const write = (name: 'a' | 'b', key: string, value: string) =>
    send(node(name).url, 'POST', `secret/data/${key}`, {
      token: init.rootToken,
      body: { data: { value } },
    });
  const read = async (name: 'a' | 'b', key: string) => {
    const response = await send(node(name).url, 'GET', `secret/data/${key}`, {
      token: init.rootToken,
    });
    return response.status === 200 ? response.body.data.data.value : response.status;
  };
  const rotate = async (name: 'a' | 'b') =>
    (await send(node(name).url, 'POST', 'sys/rotate', { token: init.rootToken })).status;
  const term = async (name: 'a' | 'b') =>
    (await send(node(name).url, 'GET', 'sys/key-status', { token: init.rootToken })).body.data
      .term as number;

  beforeAll(async () => {
    storage = await createTestStorage(kind);
    const first = await startSealedServer(storage.location);
    init = await initOverHttp(first);
    await first.close();
    await startNode('a');
    await startNode('b');
  });
  afterAll(async () => {
    await nodes.a?.close();
    await nodes.b?.close();
    await storage.cleanup();
  });

  it('a node that meets a version it has not seen reloads the keyring and reads the entry', async () => {
    expect(await term('b')).toBe(1);
    expect(await rotate('a')).toBe(204);
    expect((await write('a', 'seen/by-a', 'written under v2')).status).toBe(200);
    expect(await read('b', 'seen/by-a')).toBe('written under v2');
    expect(await term('b')).toBe(2);
    // And the other way: what b writes now, a reads.
    expect((await write('b', 'seen/by-b', 'written by b')).status).toBe(200);
    expect(await read('a', 'seen/by-b')).toBe('written by b');
  });

  it('rotating on a node with a stale keyring adds to the stored keyring instead of overwriting it', async () => {
    // Versions are counted from where the nodes are (the test may run alone or after others).
    const start = await term('a');
    expect(await term('b')).toBe(start);
    expect((await write('b', 'stale/before', 'written before the rotations')).status).toBe(200);
    expect(await rotate('a')).toBe(204); // b still holds v1..v(start)
    expect((await write('a', 'stale/x', 'written by a under the next version')).status).toBe(200);
    expect(await rotate('b')).toBe(204);
    expect(await term('b')).toBe(start + 2);
    expect(await read('b', 'stale/x')).toBe('written by a under the next version');
    expect((await write('b', 'stale/y', 'written by b under the last version')).status).toBe(200);
    expect(await read('a', 'stale/y')).toBe('written by b under the last version');

    // What a wrote survives a's restart (it reads core/keyring afresh).
    await startNode('a');
    expect(await term('a')).toBe(start + 2);
    for (const [key, value] of [
      ['stale/before', 'written before the rotations'],
      ['stale/x', 'written by a under the next version'],
      ['stale/y', 'written by b under the last version'],
    ] as const)
      expect(await read('a', key)).toBe(value);
  });

  it('concurrent rotations on both nodes each add a version, and no entry becomes unreadable', async () => {
    const before = await term('a');
    const written: [string, string][] = [];
    for (let round = 0; round < 4; round++) {
      expect(await Promise.all([rotate('a'), rotate('b')])).toEqual([204, 204]);
      for (const name of ['a', 'b'] as const) {
        const key = `race/${name}${round}`;
        expect((await write(name, key, `${name} after round ${round}`)).status).toBe(200);
        written.push([key, `${name} after round ${round}`]);
      }
    }
    await startNode('a');
    await startNode('b');
    expect(await term('a')).toBe(before + 8);
    expect(await term('b')).toBe(before + 8);
    for (const [key, value] of written) {
      expect(await read('a', key)).toBe(value);
      expect(await read('b', key)).toBe(value);
    }
  });
});
