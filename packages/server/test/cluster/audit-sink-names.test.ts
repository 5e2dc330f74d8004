/**
 * Audit sinks on several nodes: a sink's chain state (latest checkpoint, file starts) is stored
 * by the sink's name in the shared storage, so each node needs sink names of its own
 * (docs/operations.md, "Running several nodes"). With distinct names every node audits into its
 * own file; with the same name the second node finds the sink's owner record held by the first
 * (`sys/audit/owner/<sink>`) and refuses to unseal with `ERR_AUDIT_SINK_NAME_CLASH`, before it
 * writes anything: the two never interleave one chain.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyAuditLog } from '../../src/audit/audit-verify.js';
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
  const twoNodes = async (names: [string, string], options: { firstAudits: boolean }) => {
    const storage = await createTestStorage('postgres');
    storages.push(storage);
    const files = names.map((name, i) => join(dir, `${name}-${i}-${storages.length}.log`));
    const start = (i: number) =>
      startSealedServer(storage.location, {
        audit: [{ type: 'file', name: names[i] as string, path: files[i] as string }],
      });
    const first = await start(0);
    nodes.push(first);
    const init = await initOverHttp(first);
    await unsealOverHttp(first, init.keys);
    // The first node audits a request (so the storage records its sink's checkpoint), or not.
    if (options.firstAudits)
      expect((await send(first.url, 'GET', 'sys/mounts', { token: init.rootToken })).status).toBe(
        200,
      );
    const second = await start(1);
    nodes.push(second);
    const unsealed = await unsealOverHttp(second, init.keys);
    return { first, second, token: init.rootToken, unsealed, files, keys: init.keys };
  };

  it('lets each node audit into its own file when the sink names differ', async () => {
    const { first, second, token, unsealed } = await twoNodes(['node-a', 'node-b'], {
      firstAudits: true,
    });
    expect(unsealed.body).toMatchObject({ sealed: false });
    for (const node of [second, first, second])
      expect((await send(node.url, 'GET', 'sys/mounts', { token })).status).toBe(200);
  });

  for (const firstAudits of [true, false]) {
    it(`refuses to unseal a second node whose sink name the first writes elsewhere (first node ${firstAudits ? 'audited' : 'idle'})`, async () => {
      const { first, second, token, unsealed, files } = await twoNodes(['file', 'file'], {
        firstAudits,
      });
      expect(unsealed.status).toBe(500);
      expect(unsealed.body.errors[0]).toMatch(
        /^audit sink file refused: node .+ writes a sink of this name to file:.+file-0-\d+\.log .*this node to file:.+file-1-\d+\.log\. Give each node's sinks distinct names/,
      );
      expect(second.context.seal.phase()).toBe('sealed');
      // Nothing was written by the second node; the first goes on with its chain.
      expect(await readFile(files[1] as string, 'utf8').catch(() => 'absent')).toBe('absent');
      expect((await send(first.url, 'GET', 'sys/mounts', { token })).status).toBe(200);
      const report = verifyAuditLog(await readFile(files[0] as string, 'utf8'));
      expect(report.problems).toEqual([]);
    });
  }

  it('lets a node claim the name once the owner closed it, its file still checked against the chain', async () => {
    const { first, second, keys, token } = await twoNodes(['file', 'file'], { firstAudits: false });
    await first.close();
    nodes.splice(nodes.indexOf(first), 1);
    // The first node released its record on close: the second unseals. Its own file does not
    // hold the chain the first node left in storage, so the sink is still refused: fail closed.
    expect((await unsealOverHttp(second, keys)).body).toMatchObject({ sealed: false });
    const refused = await send(second.url, 'GET', 'sys/mounts', { token });
    expect(refused.status).toBe(500);
    expect(refused.body.errors[0]).toMatch(
      /^audit log unavailable: every sink was refused \(sink file: the file is missing/,
    );
  });

  it('two nodes unsealing at once with one sink name: exactly one gets it', async () => {
    const storage = await createTestStorage('postgres');
    storages.push(storage);
    const start = (i: number) =>
      startSealedServer(storage.location, {
        audit: [
          { type: 'file', name: 'file', path: join(dir, `race-${i}-${storages.length}.log`) },
        ],
      });
    const first = await start(0);
    nodes.push(first);
    const init = await initOverHttp(first);
    const second = await start(1);
    nodes.push(second);
    const answers = await Promise.all([
      unsealOverHttp(first, init.keys),
      unsealOverHttp(second, init.keys),
    ]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 500]);
    const loser = answers.find((a) => a.status === 500);
    expect(loser?.body.errors[0]).toMatch(
      /^audit sink file refused: node .+ writes a sink of this name/,
    );
    const phases = [first, second].map((n) => n.context.seal.phase()).sort();
    expect(phases).toEqual(['sealed', 'unsealed']);
  });

  it('refuses a sink whose name another node took over while it ran (lease lost)', async () => {
    const storage = await createTestStorage('postgres');
    storages.push(storage);
    const file = join(dir, `lease-${storages.length}.log`);
    const node = await startSealedServer(storage.location, {
      audit: [{ type: 'file', name: 'file', path: file }],
      auditOwnerLeaseMs: 300,
    });
    nodes.push(node);
    const init = await initOverHttp(node);
    await unsealOverHttp(node, init.keys);
    expect((await send(node.url, 'GET', 'sys/mounts', { token: init.rootToken })).status).toBe(200);
    // Another node's record replaces this one's (as after a lease this node failed to renew).
    const barrier = node.context.barrier;
    const path = 'sys/audit/owner/file';
    const held = await barrier.read<Record<string, unknown>>(path);
    expect(held?.data).toMatchObject({ destination: `file:${file}` });
    await barrier.write(path, {
      id: 'another-node',
      host: 'elsewhere',
      destination: 'file:/var/log/other.log',
      renewedAt: Date.now(),
    });
    await vi.waitFor(
      async () => {
        const refused = await send(node.url, 'GET', 'sys/mounts', { token: init.rootToken });
        expect(refused.status).toBe(500);
        expect(refused.body.errors[0]).toMatch(
          /^audit log unavailable: another node took over every sink's name \(sink file: node elsewhere took it over, writing to file:\/var\/log\/other\.log\)/,
        );
      },
      { timeout: 5000, interval: 100 },
    );
  });
});
