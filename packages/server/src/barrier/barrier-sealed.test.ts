import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSealBed, type SealBed } from '../../test/seal-manager.js';
import { ServerError } from '../errors.js';
import { type Barrier, createBarrier, retryOnConflict } from './barrier.js';

// Every barrier operation asks the seal first: once sealed, nothing is read, listed, counted
// or removed, even where no decryption would be needed (an absent path, a path listing).
describe('the barrier while sealed', () => {
  let bed: SealBed;
  let share: Buffer;
  let barrier: Barrier;
  beforeAll(async () => {
    bed = await openSealBed();
    [share] = (await bed.seal.initialize(1, 1)) as [Buffer];
    await bed.seal.submitShare(Buffer.from(share));
    barrier = createBarrier(bed.store, bed.seal);
  });
  afterAll(async () => {
    await bed.close();
  });

  const sealed = { code: 'ERR_SEALED' };
  /** The outcome of `operation` as a promise, whether it throws at once or rejects. */
  const outcome = (operation: () => Promise<unknown>) => Promise.resolve().then(operation);

  it('refuses every operation, inside a transaction too, and changes nothing', async () => {
    await barrier.write('app/kept', { v: 1 });
    const revision = await barrier.revision('app/kept');
    expect(await barrier.listPaths('app/')).toEqual(['app/kept']);
    await bed.seal.seal();

    await expect(outcome(() => barrier.read('app/absent'))).rejects.toMatchObject(sealed);
    await expect(outcome(() => barrier.read('app/kept'))).rejects.toMatchObject(sealed);
    await expect(outcome(() => barrier.revision('app/kept'))).rejects.toMatchObject(sealed);
    await expect(outcome(() => barrier.listPaths('app/'))).rejects.toMatchObject(sealed);
    await expect(outcome(() => barrier.remove('app/kept'))).rejects.toMatchObject(sealed);
    await expect(outcome(() => barrier.write('app/new', { v: 2 }))).rejects.toMatchObject(sealed);
    await expect(outcome(() => barrier.create('app/new', { v: 2 }))).rejects.toMatchObject(sealed);
    await expect(
      outcome(() => barrier.replace('app/kept', { v: 3 }, revision as number)),
    ).rejects.toMatchObject(sealed);
    await expect(
      outcome(() => barrier.transaction((tx) => tx.readLocked('app/absent'))),
    ).rejects.toMatchObject(sealed);

    // Nothing changed underneath: the stored entry and no other.
    expect(await bed.store.listPaths('app/')).toEqual(['app/kept']);
    await bed.seal.submitShare(Buffer.from(share));
    expect(await barrier.read('app/kept')).toEqual({ data: { v: 1 }, revision });
    expect(await barrier.transaction((tx) => tx.readLocked('app/kept'))).toEqual({
      data: { v: 1 },
      revision,
    });
  });
});

describe('retrying on a version conflict', () => {
  const conflict = () => new ServerError('ERR_VERSION_CONFLICT', 'conflict');

  it('retries a conflict until an attempt succeeds, within the attempts allowed', async () => {
    let calls = 0;
    const result = await retryOnConflict(async () => {
      calls++;
      if (calls < 3) throw conflict();
      return 'done';
    }, 3);
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('gives up after the last attempt with the conflict, and never retries anything else', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw conflict();
      }, 3),
    ).rejects.toMatchObject({ code: 'ERR_VERSION_CONFLICT' });
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw new ServerError('ERR_STORAGE_INTEGRITY', 'damaged');
      }),
    ).rejects.toMatchObject({ code: 'ERR_STORAGE_INTEGRITY' });
    expect(calls).toBe(1);
  });

  it('tries 50 times by default', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw conflict();
      }),
    ).rejects.toMatchObject({ code: 'ERR_VERSION_CONFLICT' });
    expect(calls).toBe(50);
  });
});
