/**
 * A rolling restart behind a load balancer: two nodes on one PostgreSQL schema, a steady loop of
 * writes and reads through a round-robin balancer, each node shut down gracefully (SIGTERM's
 * `close()`), started again and unsealed in turn. No request fails, and every acknowledged write
 * reads back afterwards.
 */
import { randomBytes } from 'node:crypto';
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestStorage, type TestStorage } from '../harness.js';
import { initOverHttp, startSealedServer, unsealOverHttp } from '../seal.js';
import { type Balancer, startBalancer } from './round-robin-balancer.js';

const pg = await requireService('postgres');

describe.runIf(pg)('rolling restart of two nodes on one PostgreSQL', () => {
  let storage: TestStorage;
  let nodes: RunningServer[] = [];
  let balancer: Balancer;
  let keys: string[];
  let rootToken: string;

  const startNode = async (port = 0) => {
    const node = await startSealedServer(storage.location, { port });
    const unsealed = await unsealOverHttp(node, keys);
    if (unsealed.body.sealed !== false) throw new Error(`not unsealed: ${unsealed.text}`);
    return node;
  };

  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    const first = await startSealedServer(storage.location);
    ({ keys, rootToken } = await initOverHttp(first));
    await first.close();
    nodes = [await startNode(), await startNode()];
    balancer = await startBalancer(() => nodes.map((n) => n.url));
  });
  afterAll(async () => {
    await balancer?.close();
    for (const node of nodes) await node.close();
    await storage?.cleanup();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${balancer.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': rootToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, text: await response.text() };
  };

  it('serves every request while each node restarts in turn', async () => {
    const run = randomBytes(4).toString('hex');
    const acknowledged = new Map<string, number>();
    const failures: string[] = [];
    let served = 0;
    let running = true;
    const client = async (c: number) => {
      for (let i = 0; running; i++) {
        const path = `secret/data/rolling-${run}-${c}-${i}`;
        const write = await call('POST', path, { data: { i } });
        if (write.status !== 200) {
          failures.push(`write ${write.status} ${write.text.slice(0, 120)}`);
          continue;
        }
        acknowledged.set(path, i);
        const read = await call('GET', path);
        if (read.status !== 200) failures.push(`read ${read.status} ${read.text.slice(0, 120)}`);
        served += 2;
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    const servedAtLeast = async (count: number) => {
      while (served < count) await new Promise((resolve) => setTimeout(resolve, 20));
    };

    await servedAtLeast(40);
    for (let n = 0; n < nodes.length; n++) {
      const old = nodes[n] as RunningServer;
      const port = Number(new URL(old.url).port);
      await old.close();
      const before = served;
      await servedAtLeast(before + 20); // the other node carries the load meanwhile
      nodes[n] = await startNode(port);
      await servedAtLeast(served + 20);
    }
    running = false;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(balancer.retried()).toBeGreaterThan(0); // the restarts did happen under load
    for (const [path, i] of acknowledged) {
      const read = await call('GET', path);
      expect(read.status, path).toBe(200);
      expect(JSON.parse(read.text).data.data.i).toBe(i);
    }
  });
});
