/**
 * The policy cache against a write of the same policy on this node while a read of it is in
 * flight: the read, finished after the write, must not put back what it read before it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hclPolicy, startTestServer, type TestServer } from '../../test/harness.js';
import type { Barrier } from '../barrier/barrier.js';
import { createPolicyStore } from './policy-store.js';

/** The barrier, with reads of policies held after they read until the test lets them go. */
function heldReads(barrier: Barrier) {
  let hold: Promise<void> | undefined;
  let release = () => {};
  let readDone = () => {};
  let read: Promise<void> = Promise.resolve();
  const held: Barrier = {
    ...barrier,
    read: async <T>(path: string) => {
      const answer = await barrier.read<T>(path);
      if (hold !== undefined) {
        readDone();
        await hold;
      }
      return answer;
    },
  };
  return {
    barrier: held,
    /** Holds the next reads; resolves `read` once one has read. */
    holdNext() {
      hold = new Promise<void>((resolve) => {
        release = () => {
          hold = undefined;
          resolve();
        };
      });
      read = new Promise<void>((resolve) => {
        readDone = resolve;
      });
    },
    hasRead: () => read,
    release: () => release(),
  };
}

describe('policy cache: a read in flight during a local write', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(() => server.close());

  const allows = async (store: ReturnType<typeof createPolicyStore>, name: string) =>
    (await store.aclFor([name])).allows('secret/data/app', 'read');

  it('does not put back a policy read before a local update', async () => {
    const reads = heldReads(server.server.context.barrier);
    const store = createPolicyStore(reads.barrier);
    await store.put('race-update', hclPolicy({ 'secret/data/app': ['read'] }));
    store.clear();
    reads.holdNext();
    const stale = store.get('race-update');
    await reads.hasRead();
    await store.put('race-update', hclPolicy({ 'secret/data/app': ['deny'] }));
    reads.release();
    await stale;
    expect(await allows(store, 'race-update')).toBe(false);
  });

  it('does not put back a policy read before a local delete', async () => {
    const reads = heldReads(server.server.context.barrier);
    const store = createPolicyStore(reads.barrier);
    await store.put('race-delete', hclPolicy({ 'secret/data/app': ['read'] }));
    store.clear();
    reads.holdNext();
    const stale = store.get('race-delete');
    await reads.hasRead();
    await store.delete('race-delete');
    reads.release();
    await stale;
    expect(await store.get('race-delete')).toBeUndefined();
    expect(await allows(store, 'race-delete')).toBe(false);
  });
});
