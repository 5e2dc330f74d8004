/**
 * `sys/leader` and `sys/ha-status` with three nodes on one PostgreSQL schema: exactly one leader
 * (the holder of the cluster's advisory lock), every node names the same leader address, the
 * node list shows all three; when the leader shuts down another node takes over. On SQLite the
 * single node answers as a Vault without HA storage.
 */
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestStorage, send, type TestStorage } from '../harness.js';
import { initOverHttp, startSealedServer, unsealOverHttp } from '../seal.js';

const pg = await requireService('postgres');

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(pg)('sys/leader and sys/ha-status with three nodes on one PostgreSQL', () => {
  let storage: TestStorage;
  let nodes: RunningServer[] = [];
  let rootToken: string;

  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    const first = await startSealedServer(storage.location);
    const init = await initOverHttp(first);
    rootToken = init.rootToken;
    nodes = [
      first,
      await startSealedServer(storage.location),
      await startSealedServer(storage.location),
    ];
    for (const node of nodes) await unsealOverHttp(node, init.keys);
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    await storage?.cleanup();
  });

  const leaders = () => Promise.all(nodes.map((node) => send(node.url, 'GET', 'sys/leader')));

  it('names one leader, the same on every node, and lists every node', async () => {
    const answers = await eventually(leaders, (all) =>
      all.every((a) => a.body.leader_address !== ''),
    );
    for (const answer of answers) expect(answer.body.ha_enabled).toBe(true);
    expect(answers.filter((a) => a.body.is_self)).toHaveLength(1);
    const leaderAddress = answers.find((a) => a.body.is_self)?.body.leader_address;
    expect(nodes.map((n) => n.url)).toContain(leaderAddress);
    for (const answer of answers) expect(answer.body.leader_address).toBe(leaderAddress);
    expect(answers[nodes.findIndex((n) => n.url === leaderAddress)]?.body.is_self).toBe(true);
    expect(Date.parse(answers[0]?.body.active_time)).not.toBeNaN();

    const status = await send(nodes[0]?.url as string, 'GET', 'sys/ha-status', {
      token: rootToken,
    });
    expect(status.status).toBe(200);
    const listed = status.body.data.nodes as { api_address: string; active_node: boolean }[];
    expect(listed.map((n) => n.api_address).sort()).toEqual(nodes.map((n) => n.url).sort());
    expect(listed.filter((n) => n.active_node).map((n) => n.api_address)).toEqual([leaderAddress]);
    // Sudo only, as in Vault.
    expect(
      (await send(nodes[0]?.url as string, 'GET', 'sys/ha-status', { token: null })).status,
    ).toBe(403);
  });

  it('hands the leadership to another node when the leader shuts down', async () => {
    const answers = await eventually(leaders, (all) => all.some((a) => a.body.is_self));
    const index = answers.findIndex((a) => a.body.is_self);
    const old = nodes[index] as RunningServer;
    await old.close();
    nodes.splice(index, 1);
    const after = await eventually(leaders, (all) =>
      all.every((a) => a.body.leader_address !== '' && a.body.leader_address !== old.url),
    );
    expect(after.filter((a) => a.body.is_self)).toHaveLength(1);
    const status = await send(nodes[0]?.url as string, 'GET', 'sys/ha-status', {
      token: rootToken,
    });
    expect(
      (status.body.data.nodes as { api_address: string }[]).map((n) => n.api_address).sort(),
    ).toEqual(nodes.map((n) => n.url).sort());
  });
});

describe('sys/leader on SQLite', () => {
  it('answers as a single node without HA storage', async () => {
    const storage = await createTestStorage('sqlite');
    const server = await startSealedServer(storage.location);
    try {
      const init = await initOverHttp(server);
      await unsealOverHttp(server, init.keys);
      const leader = await send(server.url, 'GET', 'sys/leader');
      expect(leader.body).toMatchObject({ ha_enabled: false, is_self: false, leader_address: '' });
      const status = await send(server.url, 'GET', 'sys/ha-status', { token: init.rootToken });
      expect(status.body.data.nodes).toMatchObject([
        { api_address: server.url, active_node: true },
      ]);
    } finally {
      await server.close();
      await storage.cleanup();
    }
  });
});
