import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Barrier } from '../barrier/barrier.js';
import { createPeriodicTask } from '../lib/periodic-task.js';
import type { ClusterLeadership } from './cluster-leadership.js';

/** Where nodes register (storage paths are not secret; entries go through the barrier). */
export const CLUSTER_NODES_PREFIX = 'sys/cluster/nodes/';

/** One node's registration, refreshed at every heartbeat. */
export interface ClusterNode {
  readonly id: string;
  readonly hostname: string;
  readonly apiAddress: string;
  readonly version: string;
  /** Unix milliseconds of the last heartbeat. */
  readonly lastEcho: number;
  /** The backend pid of its leadership session (PostgreSQL), to match `pg_locks`. */
  readonly lockPid?: number;
  /** Unix milliseconds since it holds the leadership, when it does. */
  readonly activeSince?: number;
}

/** The nodes of a cluster as one node sees them. */
export interface ClusterNodes {
  readonly id: string;
  /** The address this node advertises (its URL, known once it listens). */
  setAddress(address: string): void;
  /** The address this node advertises (`''` until it listens). */
  address(): string;
  /** Registers now and every heartbeat after (while unsealed). */
  start(): Promise<void>;
  /** Stops the heartbeats and removes the registration (before the keys go). */
  stop(): Promise<void>;
  /** The nodes with a heartbeat in the last three intervals, this one first. */
  list(): Promise<ClusterNode[]>;
  /** The leader now: the registered node whose session holds the lock. */
  leader(): Promise<ClusterNode | undefined>;
  /** Whether the storage is shared by several nodes (PostgreSQL). */
  readonly haEnabled: boolean;
  isLeader(): boolean;
}

/**
 * Node registration in storage: each node writes its id, address and a heartbeat; `sys/ha-status`
 * lists them and `sys/leader` names the one holding the leadership lock.
 *
 * @example
 * ```ts
 * const nodes = createClusterNodes({ barrier, leadership, version: '1.0.0', clock: Date.now });
 * nodes.setAddress('https://10.0.0.5:8200');
 * await nodes.start();
 * ```
 */
export function createClusterNodes(options: {
  barrier: Barrier;
  leadership?: ClusterLeadership;
  version: string;
  clock: () => number;
  heartbeatMs?: number;
}): ClusterNodes {
  const id = randomUUID();
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  let address = '';
  let activeSince: number | undefined;
  const path = `${CLUSTER_NODES_PREFIX}${id}`;
  /** This node's registration as of now (leadership read from the lock, not from storage). */
  const current = (): ClusterNode => {
    const now = options.clock();
    const leading = options.leadership?.isLeader() ?? true;
    if (!leading) activeSince = undefined;
    else activeSince ??= now;
    const pid = options.leadership?.sessionPid();
    return {
      id,
      hostname: hostname(),
      apiAddress: address,
      version: options.version,
      lastEcho: now,
      ...(pid === undefined ? {} : { lockPid: pid }),
      ...(activeSince === undefined ? {} : { activeSince }),
    };
  };
  const beat = () => options.barrier.write(path, current());
  const heartbeats = createPeriodicTask(beat, heartbeatMs);
  const fresh = (node: ClusterNode) => options.clock() - node.lastEcho <= 3 * heartbeatMs;

  const list = async () => {
    const nodes: ClusterNode[] = [];
    for (const entry of await options.barrier.listPaths(CLUSTER_NODES_PREFIX)) {
      const node = (await options.barrier.read<ClusterNode>(entry))?.data;
      if (node !== undefined && fresh(node)) nodes.push(node);
    }
    return nodes.sort((a, b) => (a.id === id ? -1 : b.id === id ? 1 : a.id < b.id ? -1 : 1));
  };

  return {
    id,
    haEnabled: options.leadership !== undefined,
    setAddress(next) {
      address = next;
    },
    address: () => address,
    async start() {
      options.leadership?.start();
      await beat();
      heartbeats.start();
    },
    async stop() {
      heartbeats.stop();
      await options.leadership?.stop();
      await options.barrier.remove(path).catch(() => {});
    },
    list,
    async leader() {
      if (options.leadership === undefined) return current();
      // This node leads: answered from memory (an unauthenticated route never writes).
      if (options.leadership.isLeader()) return current();
      const holder = await options.leadership.holderPid();
      if (holder === undefined) return undefined;
      return (await list()).find((n) => n.lockPid === holder);
    },
    isLeader: () => options.leadership?.isLeader() ?? true,
  };
}
