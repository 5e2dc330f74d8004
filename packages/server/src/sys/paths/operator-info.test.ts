import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

describe.each(await storageKinds())('sys/leader, sys/host-info, token counters on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  it('sys/leader answers without a token: without HA on SQLite, as the cluster leader on PostgreSQL', async () => {
    if (kind === 'sqlite') {
      const leader = await send(s.url, 'GET', 'sys/leader', { token: null });
      expect(leader.status).toBe(200);
      expect(leader.body).toEqual({
        ha_enabled: false,
        is_self: false,
        active_time: '0001-01-01T00:00:00Z',
        leader_address: '',
        leader_cluster_address: '',
        performance_standby: false,
        performance_standby_last_remote_wal: 0,
      });
      return;
    }
    // The only node of its cluster takes the leadership lock shortly after it unseals.
    let leader = await send(s.url, 'GET', 'sys/leader', { token: null });
    while (!leader.body.is_self) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      leader = await send(s.url, 'GET', 'sys/leader', { token: null });
    }
    expect(leader.status).toBe(200);
    expect(leader.body).toMatchObject({
      ha_enabled: true,
      is_self: true,
      leader_address: s.url,
      leader_cluster_address: '',
      performance_standby: false,
    });
  });

  it('sys/host-info needs sudo (a read grant is not enough; other spellings are other paths)', async () => {
    await s.policy('host-read', { 'sys/host-info': ['read'] });
    await s.policy('host-sudo', { 'sys/host-info': ['read', 'sudo'] });
    const reader = await s.token({ policies: ['host-read'] });
    const sudoer = await s.token({ policies: ['host-sudo'] });
    expect((await send(s.url, 'GET', 'sys/host-info', { token: reader })).status).toBe(403);
    expect((await send(s.url, 'GET', 'sys/host-info', { token: null })).status).toBe(403);
    for (const variant of ['sys/Host-Info', 'SYS/host-info', 'sys/host-info/', 'sys/host%2Dinfo/x'])
      expect(
        (await send(s.url, 'GET', variant, { token: sudoer })).status,
        variant,
      ).toBeGreaterThanOrEqual(400);
    const info = await send(s.url, 'GET', 'sys/host-info', { token: sudoer });
    expect(info.status).toBe(200);
    expect(Object.keys(info.body.data).sort()).toEqual(
      ['cpu', 'cpu_times', 'disk', 'host', 'memory', 'timestamp'].sort(),
    );
    expect(info.body.data.cpu.length).toBeGreaterThan(0);
    expect(info.body.data.memory.total).toBeGreaterThan(0);
    expect(typeof info.body.data.host.hostname).toBe('string');
    expect(info.body.data.disk[0].path).toBe('/');
  });

  it('sys/internal/counters/tokens counts the stored service tokens', async () => {
    const count = async () =>
      (await s.request('GET', 'sys/internal/counters/tokens')).body.data.counters.service_tokens
        .total as number;
    const before = await count();
    expect(before).toBeGreaterThanOrEqual(1); // the root token
    await s.token({ policies: ['default'] });
    await s.token({ policies: ['default'] });
    expect(await count()).toBe(before + 2);
    const other = await s.token({ policies: ['default'] });
    expect(
      (await send(s.url, 'GET', 'sys/internal/counters/tokens', { token: other })).status,
    ).toBe(403);
  });
});
