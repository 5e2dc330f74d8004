import { expect } from 'vitest';
import type { RunningServer, StartOptions } from '../../src/server.js';
import { createTestStorage, type StorageKind, send, type TestStorage } from '../harness.js';
import { type InitResult, initOverHttp, startSealedServer, unsealOverHttp } from '../seal.js';

/**
 * Two unsealed nodes on one fresh storage; `options[i]` for node i, `started(i)` once node i
 * runs (before the next starts).
 */
export async function twoNodes(
  kind: StorageKind,
  options: Partial<StartOptions>[] = [],
  started: (node: number, storage: TestStorage) => Promise<void> = async () => {},
) {
  const storage: TestStorage = await createTestStorage(kind);
  const first = await startSealedServer(storage.location);
  const init: InitResult = await initOverHttp(first);
  await first.close();
  const nodes: RunningServer[] = [];
  for (let i = 0; i < 2; i++) {
    const node = await startSealedServer(storage.location, options[i] ?? {});
    nodes.push(node);
    expect((await unsealOverHttp(node, init.keys)).body.sealed).toBe(false);
    await started(i, storage);
  }
  const request = (
    node: number,
    method: string,
    path: string,
    body?: unknown,
    token: string = init.rootToken,
  ) =>
    send((nodes[node] as RunningServer).url, method, path, {
      token,
      ...(body === undefined ? {} : { body }),
    });
  const token = async (node: number, body: Record<string, unknown>) =>
    (await request(node, 'POST', 'auth/token/create', body)).body.auth.client_token as string;
  return {
    storage,
    nodes,
    request,
    token,
    async close() {
      for (const node of nodes) await node.close();
      await storage.cleanup();
    },
  };
}
