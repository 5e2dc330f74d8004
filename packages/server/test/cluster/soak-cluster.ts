/**
 * The cluster a soak runs against: `count` real node processes on one fresh PostgreSQL schema,
 * initialised, unsealed with the same shares, behind a round-robin TCP balancer, with a transit
 * key for the load. Used by the in-suite soak test and by `npm run soak`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStorage, send } from '../harness.js';
import {
  freePort,
  initCluster,
  type NodeProcess,
  startNodeProcess,
  unsealNode,
} from './node-process.js';
import { startTcpBalancer, type TcpBalancer } from './tcp-balancer.js';

export interface SoakCluster {
  readonly nodes: readonly NodeProcess[];
  readonly balancer: TcpBalancer;
  readonly rootToken: string;
  /** The transit key the load encrypts with. */
  readonly transitKey: string;
  /** Stops the nodes (SIGTERM), the balancer, and removes the schema and the files. */
  close(): Promise<void>;
}

export async function startSoakCluster(count = 3): Promise<SoakCluster> {
  const storage = await createTestStorage('postgres');
  const dir = await mkdtemp(join(tmpdir(), 'custos-soak-'));
  const nodes: NodeProcess[] = [];
  let balancer: TcpBalancer | undefined;
  const close = async () => {
    await balancer?.close();
    await Promise.all(nodes.map((node) => node.stop('SIGTERM')));
    await storage.cleanup();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const start = async (index: number) =>
      startNodeProcess({
        name: `node${index}`,
        dir,
        storage: storage.location,
        port: await freePort(),
      });
    nodes.push(await start(0));
    const { keys, rootToken } = await initCluster(nodes[0] as NodeProcess);
    for (let i = 1; i < count; i++) nodes.push(await start(i));
    for (const node of nodes) await unsealNode(node, keys);
    balancer = await startTcpBalancer(nodes.map((node) => node.url));
    const transitKey = 'soak';
    const created = await send(balancer.url, 'POST', `transit/keys/${transitKey}`, {
      token: rootToken,
    });
    if (created.status !== 200) throw new Error(`transit key: ${created.status} ${created.text}`);
    return { nodes, balancer, rootToken, transitKey, close };
  } catch (err) {
    await close();
    throw err;
  }
}
