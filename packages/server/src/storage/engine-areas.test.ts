import type { CustosError } from '@custos/core/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import type { Barrier, BarrierWriter } from '../barrier/barrier.js';
import { createKvEngine } from '../kv/kv-engine.js';
import { createPolicyStore } from '../policy/policy-store.js';
import { createTransitStore } from '../transit/transit-store.js';
import { createUsageLog } from '../transit/usage-log.js';
import { KV, POLICIES, TRANSIT, TRANSIT_USAGE } from './layout.js';

/** The real barrier, noting every storage path asked of it (an observer, not a stand-in). */
function observed(barrier: Barrier, paths: string[]): Barrier {
  const note = (path: string) => {
    paths.push(path);
    return path;
  };
  const wrap = (writer: BarrierWriter): BarrierWriter => ({
    read: (path) => writer.read(note(path)),
    readLocked: (path) => writer.readLocked(note(path)),
    revision: (path) => writer.revision(note(path)),
    listPaths: (prefix) => writer.listPaths(note(prefix)),
    create: (path, data) => writer.create(note(path), data),
    replace: (path, data, revision) => writer.replace(note(path), data, revision),
    write: (path, data) => writer.write(note(path), data),
    remove: (path) => writer.remove(note(path)),
  });
  return {
    ...wrap(barrier),
    transaction: (work) => barrier.transaction((tx) => work(wrap(tx))),
    changes: barrier.changes,
    sealedCache: (prefix) => {
      const inner = barrier.sealedCache(prefix);
      return {
        read: (key) => {
          note(prefix + key);
          return inner.read(key);
        },
        clear: inner.clear,
      };
    },
  };
}

describe('each engine narrows the barrier to its own area (storage/layout.ts)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await s.close();
  });

  it('asks storage only for paths under its prefix, and refuses keys that climb out of it', async () => {
    const barrier = s.server.context.barrier;
    // Something outside every engine below, that a climbing key would name.
    await barrier.write('sys/policy/outside', { text: 'planted' });

    const kvPaths: string[] = [];
    const kv = createKvEngine(observed(barrier, kvPaths), 'secret');
    await kv.write('app/db', { password: 'x' }, undefined);
    await kv.read('app/db');
    await kv.list('');
    for (const key of ['../../sys/policy/outside', 'a/../../../../sys/policy/outside', '..']) {
      // A key no view can hold is refused, or (where the engine asks first) finds nothing.
      const read = await kv.read(key).catch((err: CustosError) => err.code);
      expect([{ kind: 'missing' }, 'ERR_INVALID_REQUEST']).toContainEqual(read);
      await expect(kv.write(key, { x: '1' }, undefined)).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
      });
    }

    const transitPaths: string[] = [];
    const transit = createTransitStore(observed(barrier, transitPaths), {});
    await transit.createKey('orders', {});
    await transit.describe('orders');
    await transit.list();

    const usagePaths: string[] = [];
    const usage = createUsageLog(observed(barrier, usagePaths));
    usage.record('orders', {
      operation: 'encrypt',
      success: true,
      display_name: 'root',
      request_id: 'r1',
    });
    await usage.flush();
    await usage.read('orders');

    const policyPaths: string[] = [];
    const policies = createPolicyStore(observed(barrier, policyPaths));
    await policies.put('ops', JSON.stringify({ path: { 'secret/*': { capabilities: ['read'] } } }));
    await policies.list();

    for (const [paths, prefix] of [
      [kvPaths, KV.prefix('secret')],
      [transitPaths, TRANSIT.prefix],
      [usagePaths, TRANSIT_USAGE.prefix],
      [policyPaths, POLICIES.prefix],
    ] as const) {
      expect(paths.length, prefix).toBeGreaterThan(0);
      expect(
        paths.filter((path) => !path.startsWith(prefix)),
        prefix,
      ).toEqual([]);
    }
    expect((await barrier.read('sys/policy/outside'))?.data).toEqual({ text: 'planted' });
  });
});
