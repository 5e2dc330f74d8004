/**
 * A server process SIGKILLed in the middle of rotations, 20 times, on PostgreSQL: each trial
 * rotates two secrets at once through the node (one whose test step fails, so it rolls back),
 * kills the node at a chosen point — as a step begins, or as it ends (before the next is
 * persisted) — for create, set, test, finish and rollback in turn, starts a new node on the
 * same storage, and waits for its scheduler to resume what the dead node left. Then every
 * secret has exactly one `current` version, no `pending` one, its value readable and working on
 * the target system (the `steps` rotator's table), and its last run ended (succeeded with the
 * new version current, or rolled back with the old one current). The new node drives the next
 * trial. Long (about a minute): a timeout of its own, so it runs under `npm test` too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RotationCluster, type RotationNode, startRotationCluster } from './rotation-nodes.js';

const hasPostgres = await requireService('postgres');

const TRIALS = 20;
const STEPS = ['create', 'set', 'test', 'finish', 'rollback'] as const;
/** A run not saved for 600 ms was left by a dead node (steps here take about 40 ms). */
const NODE_ENV = { TICK_MS: '150', STALE_MS: '600', STEP_DELAY_MS: '20', LEASE_MS: '1000' };

describe.runIf(hasPostgres)('rotations cut short by SIGKILL of the server process', () => {
  let dir: string;
  let cluster: RotationCluster;
  let node: RotationNode;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-rotation-kill-'));
    ({ cluster, first: node } = await startRotationCluster(dir, NODE_ENV));
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Checks one secret after recovery; its last run's result (`none`: no run started since the
   * one `before` names, the node died first).
   */
  const consistent = async (key: string, before: string | undefined): Promise<string> => {
    const meta = await cluster.call(node, 'GET', `secret/metadata/${key}`);
    expect(meta.status).toBe(200);
    const versions = meta.body.data.versions as Record<
      string,
      { labels: string[]; destroyed: boolean }
    >;
    const current = Object.entries(versions).filter(([, v]) => v.labels.includes('current'));
    const runsNow = (await cluster.call(node, 'GET', `sys/rotation-history/secret/${key}`)).body
      .data.runs;
    expect(
      current,
      `${key}: one current; versions ${JSON.stringify(versions)}; last run ${JSON.stringify(runsNow.at(-1))}`,
    ).toHaveLength(1);
    expect(
      Object.values(versions).some((v) => v.labels.includes('pending')),
      key,
    ).toBe(false);
    const [currentVersion, entry] = current[0] as [string, { destroyed: boolean }];
    expect(entry.destroyed).toBe(false);
    const read = await cluster.call(node, 'GET', `secret/data/${key}`);
    expect(read.status).toBe(200);
    const value = read.body.data.data.value as string;
    const works = await cluster.target.query(
      'select 1 from accepted where secret = $1 and value = $2',
      [key, value],
    );
    expect(works.rowCount, `${key}: the current value works on the target`).toBe(1);
    const runs = (await cluster.call(node, 'GET', `sys/rotation-history/secret/${key}`)).body.data
      .runs as unknown[];
    const last = runs.at(-1) as
      | { id: string; state: string; from_version: number; new_version?: number }
      | undefined;
    if (last === undefined || last.id === before) return 'none';
    expect(last.state).toMatch(/^(succeeded|rolled_back)$/);
    if (last.state === 'succeeded') expect(Number(currentVersion)).toBe(last.new_version);
    else expect(Number(currentVersion)).toBe(last.from_version);
    return last.state;
  };

  /** Waits until the node's scheduler resumed every run the dead node left. */
  const recovered = async (keys: readonly string[]) => {
    await vi.waitFor(
      async () => {
        for (const key of keys) {
          const runs = (await cluster.call(node, 'GET', `sys/rotation-history/secret/${key}`)).body
            .data.runs as { state: string }[];
          expect(runs.at(-1)?.state ?? 'none').not.toBe('running');
        }
      },
      { timeout: 15_000, interval: 100 },
    );
  };

  it(`${TRIALS} kills at every step: after each restart, one working current per secret, resumed or rolled back`, async () => {
    const keys = ['kill/ok', 'kill/fail'];
    for (const key of keys) {
      await cluster.call(node, 'POST', `secret/data/${key}`, { data: { value: `seed-${key}` } });
      await cluster.target.query('insert into accepted values ($1, $2)', [key, `seed-${key}`]);
      const policy = await cluster.call(node, 'POST', `sys/rotation/secret/${key}`, {
        rotator: 'steps',
        schedule: '90d',
        grace_period: '0s',
        automatic: false,
        settings: key === 'kill/fail' ? { fail_test: true } : {},
      });
      expect(policy.status).toBe(204);
    }
    const outcomes: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const step = STEPS[trial % STEPS.length] as (typeof STEPS)[number];
      const edge = trial < TRIALS / 2 ? 'BEGIN' : 'END';
      // Only the failing secret rolls back, only the other one finishes; the rest alternate.
      const victim =
        step === 'rollback'
          ? 'kill/fail'
          : step === 'finish'
            ? 'kill/ok'
            : Math.floor(trial / STEPS.length) % 2 === 0
              ? 'kill/ok'
              : 'kill/fail';
      const marker = new RegExp(`^${edge} \\S+ ${victim} ${step} `);
      const seen = node.lines.length;
      const before = new Map<string, string | undefined>();
      for (const key of keys)
        before.set(
          key,
          (await cluster.call(node, 'GET', `sys/rotation-history/secret/${key}`)).body.data.runs.at(
            -1,
          )?.id,
        );
      // Both rotations in flight; the node dies at the marker (their answers never come).
      const answers: string[] = [];
      for (const key of keys)
        void cluster
          .call(node, 'POST', `sys/rotate-secret/secret/${key}`, { force: true, reason: 'kill' })
          .then((r) => answers.push(`${key}: ${r.status} ${r.text}`))
          .catch(() => {});
      await vi.waitFor(
        () =>
          expect(
            node.lines.slice(seen).some((l) => marker.test(l)),
            `trial ${trial}: ${marker} not seen; answers ${answers.join(' | ')}; lines ${node.lines.slice(seen).join(' | ')}`,
          ).toBe(true),
        { timeout: 10_000, interval: 1 },
      );
      await node.stop('SIGKILL');
      node = await cluster.start(`node${trial + 1}`, NODE_ENV);
      await recovered(keys);
      for (const key of keys) {
        const outcome = await consistent(key, before.get(key));
        // The victim's run had started (its marker was seen): it always ended one way.
        if (key === victim) expect(outcome, `trial ${trial}`).not.toBe('none');
        outcomes.push(`${key}:${outcome}`);
      }
    }
    // The secret whose test passes ended rotated whenever its run started; the other rolled
    // back whenever its run started; never anything else.
    expect(
      outcomes.filter((o) => !['kill/ok:succeeded', 'kill/fail:rolled_back'].includes(o)),
    ).toEqual(outcomes.filter((o) => o.endsWith(':none')));
    const succeeded = outcomes.filter((o) => o === 'kill/ok:succeeded').length;
    expect(succeeded).toBeGreaterThanOrEqual(TRIALS / 2);
    const history = (await cluster.call(node, 'GET', 'sys/rotation-history/secret/kill/ok')).body
      .data.runs as { state: string }[];
    expect(history).toHaveLength(succeeded);
    // Retired values were removed from the target as they were retired (grace 0): only the
    // current one (and, for the rolled-back secret, nothing pending) is left.
    await vi.waitFor(async () => {
      const left = await cluster.target.query(
        'select secret, count(*)::int as n from accepted group by secret order by secret',
      );
      expect(left.rows).toEqual([
        { secret: 'kill/fail', n: 1 },
        { secret: 'kill/ok', n: 1 },
      ]);
    });
  }, 180_000);

  it('background work cut short by SIGKILL is taken over once its lease ends, done once, and only then retires', async () => {
    const key = 'kill/bg';
    await cluster.call(node, 'POST', `secret/data/${key}`, { data: { value: `seed-${key}` } });
    await cluster.target.query('insert into accepted values ($1, $2)', [key, `seed-${key}`]);
    const policy = await cluster.call(node, 'POST', `sys/rotation/secret/${key}`, {
      rotator: 'steps-bg',
      schedule: '90d',
      grace_period: '0s',
      automatic: false,
    });
    expect(policy.status).toBe(204);
    const seen = node.lines.length;
    const rotated = await cluster.call(node, 'POST', `sys/rotate-secret/secret/${key}`, {
      force: true,
      reason: 'kill in the background',
    });
    // The answer came with the new value current; the work runs on.
    expect(rotated.body.data).toMatchObject({ result: 'succeeded', background: 'running' });
    const id = rotated.body.data.id as string;
    await vi.waitFor(
      () =>
        expect(
          node.lines.slice(seen).some((l) => l.startsWith(`BEGIN ${node.name} ${key} background`)),
        ).toBe(true),
      { timeout: 10_000, interval: 1 },
    );
    await node.stop('SIGKILL');
    node = await cluster.start('node-bg', NODE_ENV);
    // Held by the dead node until its lease ends: not retired, not rotated again meanwhile.
    const history = async () =>
      (await cluster.call(node, 'GET', `sys/rotation-history/secret/${key}`)).body.data.runs.at(-1);
    const again = await cluster.call(node, 'POST', `sys/rotate-secret/secret/${key}`, {
      force: true,
    });
    expect(again.status).toBe(409);
    // Done, and then (right after, or by the next tick if that node died too) retired.
    await vi.waitFor(
      async () =>
        expect(await history()).toMatchObject({ background: { state: 'done' }, retired: true }),
      { timeout: 15_000, interval: 100 },
    );
    const run = await history();
    expect(run).toMatchObject({ id, state: 'succeeded', retired: true });
    expect(run.background.attempts).toBe(2);
    const done = await cluster.target.query(
      'select node from background_runs where rotation_id = $1',
      [id],
    );
    expect(done.rows).toEqual([{ node: 'node-bg' }]);
    // Retired after the work: the seed value no longer works, the new one does.
    const left = await cluster.target.query('select value from accepted where secret = $1', [key]);
    const current = (await cluster.call(node, 'GET', `secret/data/${key}`)).body.data.data.value;
    expect(left.rows).toEqual([{ value: current }]);
    expect((await cluster.call(node, 'GET', `secret/data/${key}?stage=previous`)).status).toBe(404);
  }, 60_000);
});
