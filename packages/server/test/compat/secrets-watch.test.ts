import { randomBytes } from 'node:crypto';
import { createSecrets, vaultKv } from '@custos/core/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestStorage, hclPolicy, send, storageKinds, type TestStorage } from '../harness.js';
import { type InitResult, initOverHttp, startSealedServer, unsealOverHttp } from '../seal.js';

const fresh = () => randomBytes(16).toString('hex');

/** Polls `read` until it answers `expected` (or `limitMs` passes); returns what it last read. */
async function until(read: () => Promise<string | undefined>, expected: string, limitMs: number) {
  const end = Date.now() + limitMs;
  let value = await read();
  while (value !== expected && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

describe.each(await storageKinds())('the secrets SDK watches change events on %s', (kind) => {
  let storage: TestStorage;
  let init: InitResult;
  const nodes: RunningServer[] = [];
  const root = (node: number, method: string, path: string, body?: unknown) =>
    send((nodes[node] as RunningServer).url, method, path, {
      token: init.rootToken,
      ...(body === undefined ? {} : { body }),
    });
  const tokenWith = async (name: string, rules: Record<string, readonly string[]>) => {
    await root(0, 'POST', `sys/policies/acl/${name}`, { policy: hclPolicy(rules) });
    return (await root(0, 'POST', 'auth/token/create', { policies: [name] })).body.auth
      .client_token as string;
  };

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

  it('a write on node A refreshes a cached value of an SDK connected to node B, long before its TTL', async () => {
    const token = await tokenWith('watcher', {
      'sys/events/kv': ['read'],
      'secret/data/app/watched': ['read'],
    });
    const [before, after] = [fresh(), fresh()];
    await root(0, 'POST', 'secret/data/app/watched', { data: { API_KEY: before } });
    const secrets = createSecrets({
      environment: 'development',
      cacheTtlSeconds: 3600,
      providers: [
        vaultKv({
          address: (nodes[1] as RunningServer).url,
          auth: { token },
          path: 'app/watched',
          watch: { waitSeconds: 5 },
        }),
      ],
    });
    try {
      expect((await secrets.getSecret('API_KEY'))?.reveal()).toBe(before);
      // The watch's first poll takes the node's index; a write before it is read anyway.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      await root(0, 'POST', 'secret/data/app/watched', { data: { API_KEY: after } });
      const seen = await until(
        async () => (await secrets.getSecret('API_KEY'))?.reveal(),
        after,
        10_000,
      );
      expect(seen).toBe(after);
      process.stderr.write(
        `[events] ${kind}: SDK on node B read node A's write after ${Date.now() - started} ms\n`,
      );
    } finally {
      secrets.close();
    }
  });

  it('falls back to the TTL when the event stream is refused', async () => {
    // No read on sys/events/kv: every poll is refused and retried with backoff.
    const token = await tokenWith('no-events', { 'secret/data/app/fallback': ['read'] });
    const [before, after] = [fresh(), fresh()];
    await root(0, 'POST', 'secret/data/app/fallback', { data: { K: before } });
    const secrets = createSecrets({
      environment: 'development',
      cacheTtlSeconds: 1,
      providers: [
        vaultKv({
          address: (nodes[1] as RunningServer).url,
          auth: { token },
          path: 'app/fallback',
          documentTtlMs: 0,
          watch: { waitSeconds: 5, retryMs: 100 },
        }),
      ],
    });
    try {
      expect((await secrets.getSecret('K'))?.reveal()).toBe(before);
      await root(0, 'POST', 'secret/data/app/fallback', { data: { K: after } });
      expect(await until(async () => (await secrets.getSecret('K'))?.reveal(), after, 10_000)).toBe(
        after,
      );
    } finally {
      secrets.close();
    }
  });
});
