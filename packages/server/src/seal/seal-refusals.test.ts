import { describe, expect, it } from 'vitest';
import { sealBeds } from '../../test/seal-manager.js';
import { CORE } from '../storage/layout.js';

// What the manager says when an operation meets the wrong state: the code and the exact words.
describe('seal manager refusals', () => {
  const bed = sealBeds();

  const notInitialized = { code: 'ERR_NOT_INITIALIZED', message: 'the server is not initialized' };

  it('names an uninitialised server in every operation that needs one', async () => {
    const { seal } = await bed();
    expect(() => seal.requireUnsealed()).toThrow(expect.objectContaining(notInitialized));
    expect(() => seal.keyring()).toThrow(expect.objectContaining(notInitialized));
    expect(() => seal.shareCounts()).toThrow(expect.objectContaining(notInitialized));
    await expect(seal.submitShare(Buffer.alloc(33))).rejects.toMatchObject(notInitialized);
  });

  it('names a sealed server, and refuses a second initialisation', async () => {
    const { seal } = await bed();
    await seal.initialize(1, 1);
    await seal.seal();
    const sealed = { code: 'ERR_SEALED', message: 'Vault is sealed' };
    expect(() => seal.requireUnsealed()).toThrow(expect.objectContaining(sealed));
    expect(() => seal.keyring()).toThrow(expect.objectContaining(sealed));
    await expect(seal.initialize(1, 1)).rejects.toMatchObject({
      code: 'ERR_ALREADY_INITIALIZED',
      message: 'the server is already initialized',
    });
  });

  it('names a barrier keyring gone from storage and stays sealed', async () => {
    const { seal, store } = await bed();
    const [share] = await seal.initialize(1, 1);
    await store.delete(CORE.prefix + CORE.keyring);
    await expect(seal.submitShare(share as Buffer)).rejects.toMatchObject({
      code: 'ERR_NOT_INITIALIZED',
      message: 'the barrier keyring is missing',
    });
    expect(seal.phase()).toBe('sealed');
  });
});
