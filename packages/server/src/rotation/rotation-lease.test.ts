import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { isServerError } from '../errors.js';
import { builtInRotators } from './built-in-rotators.js';
import { singleNodeLeader } from './leader-lock.js';
import { createRotationEngine, type RotationEngine } from './rotation-engine.js';
import { createRotationScheduler } from './rotation-scheduler.js';
import type { RotationStore } from './rotation-store.js';
import { kvSecrets } from './rotation-target.js';
import type { Rotator } from './rotator.js';

const value = () => randomBytes(12).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEASE_MS = 300;

/** A set step held until the test opens it, for the first rotation of a secret. */
interface Gate {
  /** Resolves once the held set step began. */
  readonly entered: Promise<void>;
  readonly open: () => void;
  readonly opened: Promise<void>;
  readonly enter: () => void;
  used: boolean;
}

/**
 * A rotator whose set step waits, for the first rotation of each secret, until the test opens
 * its gate: a step that runs far longer than the lease. Each set is counted per rotation id.
 */
function slowSetRotator() {
  const gates = new Map<string, Gate>();
  const sets: string[] = [];
  const gateOf = (secret: string): Gate => {
    const known = gates.get(secret);
    if (known !== undefined) return known;
    let open = () => {};
    let enter = () => {};
    const opened = new Promise<void>((r) => {
      open = r;
    });
    const entered = new Promise<void>((r) => {
      enter = r;
    });
    const gate: Gate = { entered, open, opened, enter, used: false };
    gates.set(secret, gate);
    return gate;
  };
  const rotator: Rotator = {
    name: 'slow-set',
    checkSettings: () => {},
    create: async () => ({ value: value() }),
    async set(context) {
      sets.push(context.rotationId);
      const gate = gateOf(`${context.secret.mount}/${context.secret.key}`);
      if (gate.used) return;
      gate.used = true;
      gate.enter();
      await gate.opened;
    },
    test: async () => {},
  };
  return { rotator, sets, gateOf };
}

describe.each(await storageKinds())('run leases between two nodes on %s', (kind) => {
  let s: TestServer;
  const slow = slowSetRotator();
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(slow.rotator);
    s = await startTestServer(kind, { rotators, rotationSchedulerIntervalMs: 0 });
  });
  afterAll(async () => {
    await s.close();
  });

  /** An engine on the server's storage, as another node has (its own claims, a short lease). */
  const node = (store: RotationStore = s.server.context.rotation.store): RotationEngine => {
    const ctx = s.server.context;
    return createRotationEngine({
      store,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock: Date.now,
      runLeaseMs: LEASE_MS,
    });
  };
  /** Node B's scheduler, leader alone: its tick resumes what it finds left. */
  const tickOf = (engine: RotationEngine) =>
    createRotationScheduler({
      engine,
      store: s.server.context.rotation.store,
      leader: singleNodeLeader(),
      clock: Date.now,
      jitterMs: 0,
      staleRunMs: 0,
    });
  const prepare = async (key: string) => {
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: value() } } });
    const r = await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator: 'slow-set', schedule: '90d', grace_period: '1h' },
    });
    expect(r.status).toBe(204);
  };

  it('a step running far past the lease is not driven by another node while its node renews', async () => {
    const key = 'lease/renewed';
    await prepare(key);
    const gate = slow.gateOf(`secret/${key}`);
    const a = node();
    const b = tickOf(node());
    const rotation = a.rotate({ mount: 'secret', key }, { by: 'test' });
    await gate.entered;
    // Five leases long: every tick of B finds the run held.
    for (let i = 0; i < 15; i++) {
      const report = await b.tick();
      expect(report.resumed).toEqual([]);
      await sleep(LEASE_MS / 3);
    }
    const run = await s.server.context.rotation.store.readRun(`secret/${key}`);
    expect(run).toMatchObject({ state: 'running', step: 'set' });
    gate.open();
    const result = await rotation;
    expect(result.result).toBe('succeeded');
    expect(slow.sets.filter((id) => id === result.id)).toHaveLength(1);
    expect(result.steps.map((x) => x.step)).toEqual(['create', 'set', 'test', 'finish']);
  });

  it('a node that stops renewing is taken over once its lease ended, by exactly one node; its late save is refused', async () => {
    const key = 'lease/lost';
    await prepare(key);
    const gate = slow.gateOf(`secret/${key}`);
    const store = s.server.context.rotation.store;
    let dead = false;
    // Node A's storage stops answering its renewals (a partition, a frozen process).
    const a = node({
      ...store,
      renewRun: async (...args) => {
        if (dead) throw new Error('node A is unreachable');
        return store.renewRun(...args);
      },
    });
    const rotation = a.rotate({ mount: 'secret', key }, { by: 'test' });
    const settled = rotation.then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    await gate.entered;
    const started = await store.readRun(`secret/${key}`);
    dead = true;
    // Still held right after A's last renewal.
    const b = tickOf(node());
    const c = tickOf(node());
    expect((await b.tick()).resumed).toEqual([]);
    await sleep(LEASE_MS * 2);
    const [fromB, fromC] = await Promise.all([b.tick(), c.tick()]);
    const resumed = [...fromB.resumed, ...fromC.resumed];
    expect(resumed.map((r) => [r.id, r.result])).toEqual([[started?.id, 'succeeded']]);
    // A's step ends late: its save is refused, it drives nothing more.
    gate.open();
    const late = await settled;
    expect(late.ok).toBe(false);
    expect(!late.ok && isServerError(late.err, 'ERR_ROTATION_IN_PROGRESS')).toBe(true);
    const run = await store.readRun(`secret/${key}`);
    expect(run?.state).toBe('succeeded');
    expect(run?.steps.map((x) => x.step)).toEqual(['create', 'set', 'test', 'finish']);
    const history = await store.history(`secret/${key}`);
    expect(history.filter((h) => h.id === started?.id)).toHaveLength(1);
    // Exactly one current, the value the run made current.
    const meta = await s.server.context.kv.readMetadata(key);
    expect(meta?.labels).toEqual({ AWSCURRENT: run?.pending_version, AWSPREVIOUS: 1 });
    expect(meta?.current_version).toBe(2); // one pending version written, never two
  });
});
