/**
 * The per-sink owner record on a real barrier: who may claim a sink name, when a lease runs
 * out, and what the owner learns when it renews.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../server.js';
import { SinkOwnership } from './audit-sink-owner.js';

describe('audit sink owner records', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ dev: { rootTokenId: 'root' }, port: 0, logLevel: 'silent' });
  });
  afterAll(async () => {
    await server.close();
  });

  let prefixes = 0;
  const setup = () => {
    const prefix = `sys/audit/test-owner-${++prefixes}/`;
    const clock = { ms: 1_000_000 };
    const node = (id: string, host: string) =>
      new SinkOwnership(server.context.barrier, prefix, {
        id,
        host,
        leaseMs: 30_000,
        clock: () => clock.ms,
      });
    return { clock, node, prefix };
  };

  it('a live owner elsewhere is a clash; a lease that ran out is taken over, and the old owner learns it', async () => {
    const { clock, node } = setup();
    const a = node('a', 'host-a');
    const b = node('b', 'host-b');
    await a.claim('file', 'file:/var/log/a.log');
    await expect(b.claim('file', 'file:/var/log/b.log')).rejects.toMatchObject({
      code: 'ERR_AUDIT_SINK_NAME_CLASH',
      message: expect.stringMatching(
        /^audit sink file refused: node host-a writes a sink of this name to file:\/var\/log\/a\.log \(lease renewed 0 s ago\), this node to file:\/var\/log\/b\.log/,
      ),
    });
    // Renewed in time, the lease holds.
    clock.ms += 20_000;
    await a.renew('file', 'file:/var/log/a.log');
    clock.ms += 20_000;
    await expect(b.claim('file', 'file:/var/log/b.log')).rejects.toMatchObject({
      code: 'ERR_AUDIT_SINK_NAME_CLASH',
    });
    // Not renewed for the lease: abandoned (a crash on another host), taken over.
    clock.ms += 30_000;
    await b.claim('file', 'file:/var/log/b.log');
    await expect(a.renew('file', 'file:/var/log/a.log')).rejects.toMatchObject({
      code: 'ERR_AUDIT_SINK_NAME_CLASH',
      message: expect.stringContaining('node host-b took it over, writing to file:/var/log/b.log'),
    });
    // Releasing is only for the owner.
    await a.release('file');
    await expect(node('c', 'host-c').claim('file', 'file:/c.log')).rejects.toMatchObject({
      code: 'ERR_AUDIT_SINK_NAME_CLASH',
    });
    await b.release('file');
    await node('c', 'host-c').claim('file', 'file:/c.log');
  });

  it('the same host and file take the name back at once (a restart after a crash); another file on that host does not', async () => {
    const { node } = setup();
    await node('before-crash', 'host-a').claim('file', 'file:/var/log/a.log');
    await expect(
      node('other-process', 'host-a').claim('file', 'file:/var/log/other.log'),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_SINK_NAME_CLASH' });
    await node('after-crash', 'host-a').claim('file', 'file:/var/log/a.log');
    await expect(
      node('before-crash', 'host-a').renew('file', 'file:/var/log/a.log'),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_SINK_NAME_CLASH' });
  });

  it('a record removed under the owner is a clash at renewal (fail closed)', async () => {
    const { node, prefix } = setup();
    const a = node('a', 'host-a');
    await a.claim('file', 'file:/a.log');
    await server.context.barrier.remove(`${prefix}file`);
    await expect(a.renew('file', 'file:/a.log')).rejects.toMatchObject({
      code: 'ERR_AUDIT_SINK_NAME_CLASH',
      message: expect.stringContaining('its owner record is gone'),
    });
  });
});
