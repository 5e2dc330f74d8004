/**
 * SIGKILL of a node under load, with three real `custos server` processes on one PostgreSQL
 * schema: no acknowledged KV write or transit rotation is lost (checked row by row through a
 * surviving node), a write cut off mid-request is there whole or not at all, and the killed node,
 * restarted at the same address and unsealed with the same shares, rejoins the cluster
 * (`sys/leader`, `sys/ha-status`) with no other step; every node's audit file verifies
 * afterwards, the killed ones' included. The kills are driven by progress (after N
 * acknowledged writes, with a request to the victim in flight), never by a sleep.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyAuditLog } from '../../src/audit/audit-verify.js';
import { createTestStorage, send, type TestStorage } from '../harness.js';
import {
  freePort,
  initCluster,
  type NodeProcess,
  startNodeProcess,
  unsealNode,
} from './node-process.js';

const pg = await requireService('postgres');

/** Waits (polling every millisecond) until `ready()` holds. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe.runIf(pg)('SIGKILL of a node under load (three node processes)', () => {
  let storage: TestStorage;
  let dir: string;
  let ports: number[];
  const nodes: (NodeProcess | undefined)[] = [];
  let keys: string[];
  let rootToken: string;
  const killed = new Set<number>();

  const start = async (index: number) => {
    const node = await startNodeProcess({
      name: `node${index}`,
      dir,
      storage: storage.location,
      port: ports[index] as number,
    });
    nodes[index] = node;
    return node;
  };
  const live = () =>
    nodes.filter((n, i): n is NodeProcess => n !== undefined && !killed.has(i)) as NodeProcess[];
  const call = (node: NodeProcess, method: string, path: string, body?: unknown) =>
    send(node.url, method, path, { token: rootToken, ...(body === undefined ? {} : { body }) });
  /** The index of the node that leads now (waits until every live node names the same one). */
  const leaderIndex = async () => {
    let index = -1;
    await vi.waitFor(
      async () => {
        const answers = await Promise.all(live().map((n) => send(n.url, 'GET', 'sys/leader')));
        const addresses = new Set(answers.map((a) => a.body.leader_address as string));
        expect(addresses.size).toBe(1);
        index = nodes.findIndex((n) => n?.url === [...addresses][0]);
        expect(index).toBeGreaterThanOrEqual(0);
        expect(killed.has(index)).toBe(false);
      },
      { timeout: 15_000, interval: 100 },
    );
    return index;
  };
  const kill = async (index: number) => {
    killed.add(index);
    await nodes[index]?.stop('SIGKILL');
  };

  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    dir = await mkdtemp(join(tmpdir(), 'custos-node-kill-'));
    ports = [await freePort(), await freePort(), await freePort()];
    const first = await start(0);
    ({ keys, rootToken } = await initCluster(first));
    await Promise.all([start(1), start(2)]);
    for (const node of live()) await unsealNode(node, keys);
  }, 60_000);
  afterAll(async () => {
    for (const node of nodes) await node?.stop('SIGKILL');
    await storage?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged KV write when the leader is SIGKILLed mid-load', async () => {
    const victim = await leaderIndex();
    const run = randomBytes(4).toString('hex');
    /** `path@version` → the value that write was acknowledged with. */
    const acknowledged = new Map<string, string>();
    /** Writes that got no answer (the victim died under them): path → value. */
    const unanswered: { path: string; value: string }[] = [];
    const failures: string[] = [];
    const inFlight = [0, 0, 0];
    let running = true;
    let killedWithInFlight = -1;

    const writer = async (w: number) => {
      for (let i = 0; running; i++) {
        const targets = live();
        const node = targets[(w + i) % targets.length] as NodeProcess;
        const index = nodes.indexOf(node);
        // Five keys per writer: a new key, then new versions of it.
        const path = `secret/data/kill-${run}/w${w}-k${i % 5}`;
        const value = `${w}-${i}-${randomBytes(6).toString('hex')}`;
        inFlight[index] = (inFlight[index] ?? 0) + 1;
        try {
          const answer = await call(node, 'POST', path, { data: { value } });
          if (answer.status === 200) acknowledged.set(`${path}@${answer.body.data.version}`, value);
          else failures.push(`${answer.status} ${answer.text.slice(0, 120)}`);
        } catch {
          // No answer: only acceptable from the node that was killed.
          if (killed.has(index)) unanswered.push({ path, value });
          else failures.push(`no answer from live node ${index}`);
        } finally {
          inFlight[index] = (inFlight[index] ?? 1) - 1;
        }
      }
    };
    // Every acknowledged version is read back below: none may fall out of the kept window
    // (10 versions by default), however long a loaded machine takes to reach the kill.
    const config = await call(live()[0] as NodeProcess, 'POST', 'secret/config', {
      max_versions: 100_000,
    });
    expect(config.status).toBeLessThan(300);
    const writers = [0, 1, 2, 3, 4, 5].map(writer);

    await until(() => acknowledged.size >= 60 && (inFlight[victim] ?? 0) > 0);
    killedWithInFlight = inFlight[victim] ?? 0;
    const killing = kill(victim);
    const atKill = acknowledged.size;
    await killing;
    await until(() => acknowledged.size >= atKill + 60);
    running = false;
    await Promise.all(writers);

    expect(failures).toEqual([]);
    expect(killedWithInFlight).toBeGreaterThan(0);
    // Its advisory lock went with its connections: a survivor leads (and runs the periodic jobs).
    expect(await leaderIndex()).not.toBe(victim);
    const survivor = live()[0] as NodeProcess;
    // Row by row: every acknowledged version reads back with its value.
    for (const [row, value] of acknowledged) {
      const [path, version] = row.split('@') as [string, string];
      const read = await call(survivor, 'GET', `${path}?version=${version}`);
      expect(read.status, row).toBe(200);
      expect(read.body.data.data.value, row).toBe(value);
    }
    // A write cut off by the kill is there whole (at some version) or not at all, and each key's
    // metadata agrees with the versions that exist.
    const paths = new Set([...acknowledged.keys()].map((row) => row.split('@')[0] as string));
    for (const path of paths) {
      const metadata = await call(survivor, 'GET', path.replace('/data/', '/metadata/'));
      expect(metadata.status, path).toBe(200);
      const versions = Object.keys(metadata.body.data.versions).map(Number);
      expect(Math.max(...versions)).toBe(metadata.body.data.current_version);
      for (const { path: cut, value } of unanswered.filter((u) => u.path === path)) {
        const found = [];
        for (const version of versions) {
          const read = await call(survivor, 'GET', `${path}?version=${version}`);
          if (read.body.data.data.value === value) found.push(version);
        }
        expect(found.length, cut).toBeLessThanOrEqual(1);
      }
    }
  }, 90_000);

  it('loses no acknowledged transit rotation or ciphertext when a node dies mid-rotation', async () => {
    const victim = [0, 1, 2].find((i) => !killed.has(i)) as number;
    const key = `kill-${randomBytes(4).toString('hex')}`;
    const first = live()[0] as NodeProcess;
    expect((await call(first, 'POST', `transit/keys/${key}`, {})).status).toBe(200);
    const ciphertexts = new Map<string, string>();
    const failures: string[] = [];
    let rotations = 0;
    let rotating = 0;
    let running = true;

    const rotator = async () => {
      while (running) {
        const node = nodes[victim] as NodeProcess;
        if (killed.has(victim)) return;
        rotating++;
        try {
          const answer = await call(node, 'POST', `transit/keys/${key}/rotate`, {});
          if (answer.status === 200 || answer.status === 204) rotations++;
          else failures.push(`rotate ${answer.status} ${answer.text.slice(0, 120)}`);
        } catch {
          if (!killed.has(victim)) failures.push('rotate: no answer from a live node');
        } finally {
          rotating--;
        }
      }
    };
    const encrypter = async (e: number) => {
      for (let i = 0; running; i++) {
        const others = live().filter((n) => n !== nodes[victim]);
        const node = others[i % others.length] as NodeProcess;
        const plaintext = Buffer.from(`${e}-${i}-${randomBytes(6).toString('hex')}`).toString(
          'base64',
        );
        const answer = await call(node, 'POST', `transit/encrypt/${key}`, { plaintext }).catch(
          (err: Error) => ({ status: 0, text: err.message, body: null }),
        );
        if (answer.status === 200) ciphertexts.set(answer.body.data.ciphertext, plaintext);
        else failures.push(`encrypt ${answer.status} ${answer.text.slice(0, 120)}`);
      }
    };
    const rotators = [rotator(), rotator()];
    const encrypters = [0, 1, 2].map(encrypter);

    await until(() => rotations >= 10 && rotating > 0);
    await kill(victim);
    await Promise.all(rotators);
    const atKill = ciphertexts.size;
    await until(() => ciphertexts.size >= atKill + 20);
    running = false;
    await Promise.all(encrypters);

    expect(failures).toEqual([]);
    const survivor = live()[0] as NodeProcess;
    const described = await call(survivor, 'GET', `transit/keys/${key}`);
    const latest = described.body.data.latest_version as number;
    // Version 1, every acknowledged rotation, and at most the two cut off by the kill.
    expect(latest).toBeGreaterThanOrEqual(1 + rotations);
    expect(latest).toBeLessThanOrEqual(1 + rotations + 2);
    expect(
      Object.keys(described.body.data.keys)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: latest }, (_, i) => i + 1));
    for (const [ciphertext, plaintext] of ciphertexts) {
      const read = await call(survivor, 'POST', `transit/decrypt/${key}`, { ciphertext });
      expect(read.status, ciphertext).toBe(200);
      expect(read.body.data.plaintext).toBe(plaintext);
    }
    // The key still rotates and encrypts with its newest version.
    expect([200, 204]).toContain(
      (await call(survivor, 'POST', `transit/keys/${key}/rotate`, {})).status,
    );
    const after = await call(survivor, 'POST', `transit/encrypt/${key}`, { plaintext: 'AAAA' });
    expect(after.body.data.ciphertext).toMatch(new RegExp(`^vault:v${latest + 1}:`));
  }, 90_000);

  it('lets the killed nodes restart at their address, unseal with the same shares and rejoin', async () => {
    const restarted = [...killed];
    for (const index of restarted) {
      const node = await start(index);
      expect((await send(node.url, 'GET', 'sys/health')).status).toBe(503); // sealed
      await unsealNode(node, keys);
      killed.delete(index);
      expect((await send(node.url, 'GET', 'sys/health')).status).toBe(200);
      // It serves at once what the others wrote while it was gone.
      expect((await call(node, 'GET', 'sys/mounts')).body.data['transit/']).toBeDefined();
    }
    // Every node names the same leader, and sys/ha-status lists each address once (the
    // registrations the killed processes left behind age out after three heartbeats).
    const leader = await leaderIndex();
    expect(leader).toBeGreaterThanOrEqual(0);
    await vi.waitFor(
      async () => {
        for (const node of live()) {
          const status = await call(node, 'GET', 'sys/ha-status');
          const listed = status.body.data.nodes as { api_address: string; active_node: boolean }[];
          expect(listed.map((n) => n.api_address).sort()).toEqual(
            live()
              .map((n) => n.url)
              .sort(),
          );
          expect(listed.filter((n) => n.active_node).map((n) => n.api_address)).toEqual([
            nodes[leader]?.url,
          ]);
        }
      },
      { timeout: 30_000, interval: 250 },
    );
    // A restarted node serves writes and reads like the others.
    const back = nodes[restarted[0] as number] as NodeProcess;
    const path = `secret/data/rejoined-${randomBytes(4).toString('hex')}`;
    expect((await call(back, 'POST', path, { data: { v: 'x' } })).status).toBe(200);
    for (const node of live())
      expect((await call(node, 'GET', path)).body.data.data).toEqual({ v: 'x' });
  }, 90_000);

  it('leaves audit files that verify after the kills and restarts (no entry lost or broken)', async () => {
    // Every node stops cleanly now (close entry, final checkpoint); the killed ones' files also
    // hold the crash and the restart, whose open entry continues the chain.
    for (const node of nodes) await node?.stop('SIGTERM');
    for (let i = 0; i < nodes.length; i++) {
      const report = verifyAuditLog(await readFile(join(dir, `node${i}-audit.log`), 'utf8'));
      expect(report.problems, `node${i}`).toEqual([]);
      expect(report.ok).toBe(true);
    }
  }, 60_000);
});
