import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { builtInRotators } from './built-in-rotators.js';
import { createRotationEngine, type RotationEngine } from './rotation-engine.js';
import type { RotationStep } from './rotation-store.js';
import { kvSecrets } from './rotation-target.js';
import type { Rotator } from './rotator.js';

const value = () => randomBytes(12).toString('hex');

/** What a crash between two steps looks like to the engine: an error it does not handle. */
class Crash extends Error {}

const failingSet: Rotator = {
  name: 'failing-set',
  checkSettings: () => {},
  create: async () => ({ value: value() }),
  set: async () => {
    throw new Error('the target refused the new value');
  },
  test: async () => {},
};

describe.each(await storageKinds())('rotations cut short by a crash on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(failingSet);
    s = await startTestServer(kind, { rotators });
  });
  afterAll(async () => {
    await s.close();
  });

  /** An engine on the server's storage that crashes before running `at`. */
  const crashingEngine = (at: RotationStep): RotationEngine => {
    const ctx = s.server.context;
    return createRotationEngine({
      store: ctx.rotation.store,
      secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
      rotators: ctx.rotation.rotators,
      audit: ctx.audit,
      clock: ctx.clock,
      beforeStep: async (step) => {
        if (step === at) throw new Crash(`crashed before ${step}`);
      },
    });
  };

  const prepare = async (key: string, rotator = 'random') => {
    const old = value();
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: old } } });
    await s.request('POST', `sys/rotation/secret/${key}`, {
      body: { rotator, schedule: '90d', grace_period: '1h' },
    });
    return old;
  };

  it.each(['create', 'set', 'test', 'finish'] as const)(
    'a crash before %s: the run stays open, a second rotation is refused, resume completes it with exactly one current',
    async (step) => {
      const key = `crash/${step}`;
      const old = await prepare(key);
      await expect(
        crashingEngine(step).rotate({ mount: 'secret', key }, { by: 'test' }),
      ).rejects.toBeInstanceOf(Crash);
      const run = await s.server.context.rotation.store.readRun(`secret/${key}`);
      expect(run).toMatchObject({ state: 'running', step });
      // While it is open, nothing else rotates the secret.
      const second = await s.request('POST', `sys/rotate-secret/secret/${key}`, {
        body: { force: true },
      });
      expect(second.status).toBe(409);
      expect(second.body.errors[0]).toMatch(/already running/);
      // Readers still get the old value.
      expect((await s.request('GET', `secret/data/${key}`)).body.data.data.value).toBe(old);

      const resumed = await s.server.context.rotation.engine.resumeAll();
      expect(resumed.map((r) => [r.secret, r.result])).toEqual([[`secret/${key}`, 'succeeded']]);
      const meta = await s.server.context.kv.readMetadata(key);
      expect(meta?.labels).toEqual({ AWSCURRENT: 2, AWSPREVIOUS: 1 });
      expect(meta?.current_version).toBe(2); // one pending version written, never two
      expect((await s.request('GET', `secret/data/${key}`)).body.data.data.value).not.toBe(old);
      const history = await s.request('GET', `sys/rotation-history/secret/${key}`);
      expect(history.body.data.runs).toHaveLength(1);
      expect(history.body.data.runs[0].state).toBe('succeeded');
    },
  );

  it('create written but not recorded (a crash inside create): resume reuses the version it wrote', async () => {
    const key = 'crash/inside-create';
    await prepare(key);
    await expect(
      crashingEngine('set').rotate({ mount: 'secret', key }, { by: 'test' }),
    ).rejects.toBeInstanceOf(Crash);
    // As if the process died after the KV write and before the run recorded it.
    const store = s.server.context.rotation.store;
    const run = await store.readRun(`secret/${key}`);
    if (run === undefined) throw new Error('no run');
    delete run.pending_version;
    run.step = 'create';
    run.steps = [];
    await store.saveRun(run);
    const [result] = await s.server.context.rotation.engine.resumeAll();
    expect(result?.result).toBe('succeeded');
    const meta = await s.server.context.kv.readMetadata(key);
    expect(meta?.current_version).toBe(2);
    expect(meta?.labels).toEqual({ AWSCURRENT: 2, AWSPREVIOUS: 1 });
  });

  it('a crash before rollback: resume finishes the rollback, current untouched', async () => {
    const key = 'crash/rollback';
    const old = await prepare(key, 'failing-set');
    await expect(
      crashingEngine('rollback').rotate({ mount: 'secret', key }, { by: 'test' }),
    ).rejects.toBeInstanceOf(Crash);
    expect(await s.server.context.rotation.store.readRun(`secret/${key}`)).toMatchObject({
      state: 'running',
      step: 'rollback',
    });
    const [result] = await s.server.context.rotation.engine.resumeAll();
    expect(result?.result).toBe('rolled_back');
    expect(result?.error).toMatch(/the target refused the new value/);
    expect((await s.request('GET', `secret/data/${key}`)).body.data.data.value).toBe(old);
    const meta = await s.server.context.kv.readMetadata(key);
    expect(meta?.labels).toEqual({ AWSCURRENT: 1 });
  });

  it('a write to the secret during the rotation makes finish roll back instead of overwriting it', async () => {
    const key = 'crash/concurrent';
    await prepare(key);
    await expect(
      crashingEngine('finish').rotate({ mount: 'secret', key }, { by: 'test' }),
    ).rejects.toBeInstanceOf(Crash);
    const mine = value();
    await s.request('POST', `secret/data/${key}`, { body: { data: { value: mine } } });
    const [result] = await s.server.context.rotation.engine.resumeAll();
    expect(result?.result).toBe('rolled_back');
    expect(result?.error).toMatch(/written during the rotation/);
    expect((await s.request('GET', `secret/data/${key}`)).body.data.data.value).toBe(mine);
  });

  it('a version id given for the pending version (a ClientRequestToken): a crash inside create resumes with it', async () => {
    const key = 'crash/token-resume';
    await prepare(key);
    const token = `token-${value()}-${value()}`;
    await expect(
      crashingEngine('set').rotate({ mount: 'secret', key }, { by: 'test', versionId: token }),
    ).rejects.toBeInstanceOf(Crash);
    const store = s.server.context.rotation.store;
    const run = await store.readRun(`secret/${key}`);
    if (run === undefined) throw new Error('no run');
    delete run.pending_version;
    run.step = 'create';
    run.steps = [];
    await store.saveRun(run);
    const [result] = await s.server.context.rotation.engine.resumeAll();
    expect(result?.result).toBe('succeeded');
    const meta = await s.server.context.kv.readMetadata(key);
    expect(meta?.current_version).toBe(2);
    expect(meta?.version_ids?.[token]).toBe(2);
    expect(meta?.labels).toEqual({ AWSCURRENT: 2, AWSPREVIOUS: 1 });
  });

  it.each(['current', 'previous'] as const)(
    'a version id naming the %s version is never adopted as pending nor destroyed by the rollback',
    async (stage) => {
      const key = `crash/token-taken-${stage}`;
      await prepare(key);
      const kv = s.server.context.kv;
      const token = `token-${value()}-${value()}`;
      // A version written with that id (as PutSecretValue writes one), then, for `previous`,
      // another write over it.
      const taken = value();
      await kv.write(key, { value: taken }, undefined, { versionId: token });
      if (stage === 'previous') await kv.write(key, { value: value() }, undefined);
      const before = await kv.readMetadata(key);
      for (const resumed of [false, true]) {
        const result = resumed
          ? await (async () => {
              // The same, reached by a resume whose run never recorded its pending version.
              await expect(
                crashingEngine('create').rotate(
                  { mount: 'secret', key },
                  { by: 'test', versionId: token },
                ),
              ).rejects.toBeInstanceOf(Crash);
              const [r] = await s.server.context.rotation.engine.resumeAll();
              return r;
            })()
          : await s.server.context.rotation.engine.rotate(
              { mount: 'secret', key },
              { by: 'test', versionId: token },
            );
        expect(result?.result).toBe('rolled_back');
        expect(result?.error).toMatch(/already names a version/);
        const meta = await kv.readMetadata(key);
        expect(meta?.labels).toEqual(before?.labels);
        expect(meta?.current_version).toBe(before?.current_version);
        const version = meta?.version_ids?.[token] as number;
        expect(meta?.versions[String(version)]?.destroyed).toBe(false);
        expect((await kv.read(key, version)).kind).toBe('ok');
      }
    },
  );

  it('rotations that roll back again and again never push the current version out of max_versions', async () => {
    const key = 'crash/many-rollbacks';
    const old = await prepare(key, 'failing-set');
    // The mount keeps 10 versions; each rolled-back rotation writes (and destroys) one.
    for (let i = 0; i < 12; i++) {
      const r = await s.request('POST', `sys/rotate-secret/secret/${key}`, {
        body: { force: true },
      });
      expect(r.body.data.result).toBe('rolled_back');
    }
    const read = await s.request('GET', `secret/data/${key}`);
    expect(read.status).toBe(200);
    expect(read.body.data.data.value).toBe(old);
    const meta = await s.server.context.kv.readMetadata(key);
    expect(meta?.labels).toEqual({ AWSCURRENT: 1 });
    expect(meta?.current_version).toBe(13);
    // The window of 10 newest versions, and the current one held beside it.
    expect(Object.keys(meta?.versions ?? {})).toHaveLength(11);
    expect(meta?.versions['1']).toBeDefined();
  });
});
