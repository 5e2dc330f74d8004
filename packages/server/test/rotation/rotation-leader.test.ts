/**
 * Three server processes on one PostgreSQL compete for the scheduler's leadership: when five
 * automatic policies fall due (every node's clock moved 5 h on), each is rotated exactly once,
 * by the leader alone (its `steps` rotator printed every create; the others none). Killing the
 * leader with SIGKILL hands the leadership over (PostgreSQL releases its advisory lock with its
 * connection): the next due round is rotated exactly once per secret by a survivor. Long (tens
 * of seconds): a timeout of its own, so it runs under `npm test` too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RotationCluster, type RotationNode, startRotationCluster } from './rotation-nodes.js';

const hasPostgres = await requireService('postgres');

const SECRETS = Array.from({ length: 5 }, (_, i) => `leader/s${i}`);
const HOUR = 3_600_000;
const NODE_ENV = { TICK_MS: '200', STALE_MS: '5000', STEP_DELAY_MS: '5' };

describe.runIf(hasPostgres)('three server processes competing for the rotation leader', () => {
  let dir: string;
  let cluster: RotationCluster;
  const nodes: RotationNode[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-rotation-leader-'));
    const started = await startRotationCluster(dir, NODE_ENV);
    cluster = started.cluster;
    nodes.push(started.first);
    nodes.push(await cluster.start('node1', NODE_ENV), await cluster.start('node2', NODE_ENV));
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The `create` steps each node ran, per secret. */
  const creates = (node: RotationNode, key: string) =>
    node.lines.filter((l) => l.startsWith(`BEGIN ${node.name} ${key} create `)).length;
  const runsOf = async (via: RotationNode, key: string) =>
    (await cluster.call(via, 'GET', `sys/rotation-history/secret/${key}`)).body.data.runs as {
      by: string;
      state: string;
    }[];
  /** Waits until every secret has `count` runs, then a little longer (more ticks) for extras. */
  const rotatedTimes = async (via: RotationNode, count: number) => {
    await vi.waitFor(
      async () => {
        for (const key of SECRETS) expect(await runsOf(via, key), key).toHaveLength(count);
      },
      { timeout: 20_000, interval: 100 },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // five more ticks per node
    for (const key of SECRETS) {
      const runs = await runsOf(via, key);
      expect(runs, key).toHaveLength(count);
      expect(runs.every((r) => r.by === 'scheduler' && r.state === 'succeeded')).toBe(true);
    }
  };

  it('rotates each due secret exactly once, on the leader only; a killed leader hands over', async () => {
    const [first] = nodes as [RotationNode];
    for (const key of SECRETS) {
      await cluster.call(first, 'POST', `secret/data/${key}`, { data: { value: `seed-${key}` } });
      await cluster.target.query('insert into accepted values ($1, $2)', [key, `seed-${key}`]);
      const policy = await cluster.call(first, 'POST', `sys/rotation/secret/${key}`, {
        rotator: 'steps',
        schedule: '4h',
        grace_period: '0s',
      });
      expect(policy.status).toBe(204);
    }
    // Nothing is due yet: no node rotates anything.
    await new Promise((resolve) => setTimeout(resolve, 600));
    for (const key of SECRETS) expect(await runsOf(first, key)).toEqual([]);

    await cluster.setClockOffset(5 * HOUR);
    await rotatedTimes(first, 1);
    const ran = nodes.filter((n) => SECRETS.some((key) => creates(n, key) > 0));
    expect(ran, 'one node rotated').toHaveLength(1);
    const leader = ran[0] as RotationNode;
    for (const key of SECRETS) expect(creates(leader, key), key).toBe(1);
    const answer = await cluster.call(first, 'GET', 'sys/leader');
    expect(answer.body.leader_address).toBe(leader.url);

    // The leader dies; the next round falls due; a survivor takes over and runs it once.
    await leader.stop('SIGKILL');
    const survivors = nodes.filter((n) => n !== leader);
    await cluster.setClockOffset(10 * HOUR);
    await rotatedTimes(survivors[0] as RotationNode, 2);
    const second = survivors.filter((n) => SECRETS.some((key) => creates(n, key) > 0));
    expect(second, 'one survivor rotated').toHaveLength(1);
    for (const key of SECRETS) {
      expect(creates(second[0] as RotationNode, key), key).toBe(1);
      // Across all three nodes (the dead one's output kept): two rounds, two rotations.
      expect(
        nodes.reduce((n, node) => n + creates(node, key), 0),
        key,
      ).toBe(2);
    }
    await vi.waitFor(
      async () =>
        expect(
          (await cluster.call(survivors[0] as RotationNode, 'GET', 'sys/leader')).body
            .leader_address,
        ).toBe((second[0] as RotationNode).url),
      { timeout: 10_000, interval: 100 },
    );
  }, 120_000);
});
