/**
 * Audit sinks on several nodes: a sink's chain state (latest checkpoint, file starts) is stored
 * by the sink's name in the shared storage, so each node needs sink names of its own
 * (docs/operations.md, "Running several nodes"). With distinct names every node audits into its
 * own file; with the same name the second node's file does not hold the chain the storage
 * recorded, and its sink is refused: it fails closed (no audited request is served unaudited).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestStorage, send, type TestStorage } from '../harness.js';
import { initOverHttp, startSealedServer, unsealOverHttp } from '../seal.js';

const pg = await requireService('postgres');

describe.runIf(pg)('audit sink names across nodes on one PostgreSQL', () => {
  let dir: string;
  const storages: TestStorage[] = [];
  const nodes: RunningServer[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-sink-names-'));
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    for (const storage of storages) await storage.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** Two nodes on a fresh schema, each with a file sink of `names[i]` in its own file. */
  const twoNodes = async (names: [string, string]) => {
    const storage = await createTestStorage('postgres');
    storages.push(storage);
    const start = (i: number) =>
      startSealedServer(storage.location, {
        audit: [
          {
            type: 'file',
            name: names[i] as string,
            path: join(dir, `${names[i]}-${i}-${storages.length}.log`),
          },
        ],
      });
    const first = await start(0);
    nodes.push(first);
    const init = await initOverHttp(first);
    await unsealOverHttp(first, init.keys);
    // The first node audits a request (so the storage records its sink's checkpoint).
    expect((await send(first.url, 'GET', 'sys/mounts', { token: init.rootToken })).status).toBe(
      200,
    );
    const second = await start(1);
    nodes.push(second);
    await unsealOverHttp(second, init.keys);
    return { first, second, token: init.rootToken };
  };

  it('lets each node audit into its own file when the sink names differ', async () => {
    const { first, second, token } = await twoNodes(['node-a', 'node-b']);
    for (const node of [second, first, second])
      expect((await send(node.url, 'GET', 'sys/mounts', { token })).status).toBe(200);
  });

  it('refuses the second node sink of the same name, failing closed', async () => {
    const { first, second, token } = await twoNodes(['file', 'file']);
    const refused = await send(second.url, 'GET', 'sys/mounts', { token });
    expect(refused.status).toBe(500);
    expect(refused.body.errors[0]).toMatch(
      /^audit log unavailable: every sink was refused \(sink file:/,
    );
    expect((await send(first.url, 'GET', 'sys/mounts', { token })).status).toBe(200);
  });
});
