import { describe, expect, it } from 'vitest';
import { openSealBed, sealBeds } from '../../test/seal-manager.js';
import { operationAttempts, type StoredAttempt } from './operation-attempt.js';

// The record of a rekey or root generation in progress: one at a time on every server, and a
// storage failure reported as itself, never as an attempt in progress.
describe('operation attempts in storage', () => {
  const bed = sealBeds();
  const attempt = (nonce: string): StoredAttempt => ({ nonce, owner: 'server-a' });

  it('records one attempt at a time, and another after it was removed', async () => {
    const { store } = await bed();
    const attempts = operationAttempts(store, 'core/test-attempt', 'test operation');
    expect(await attempts.read()).toBeUndefined();
    await attempts.start(attempt('n1'));
    await expect(attempts.start(attempt('n2'))).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'test operation already in progress',
    });
    expect(await attempts.read()).toEqual(attempt('n1'));
    await attempts.remove();
    await attempts.start(attempt('n3'));
    expect(await attempts.read()).toEqual(attempt('n3'));
  });

  it('reports a storage that cannot be written as it is, not as an attempt in progress', async () => {
    const opened = await openSealBed();
    const attempts = operationAttempts(opened.store, 'core/test-attempt', 'test operation');
    await opened.close();
    const failure = await attempts.start(attempt('n1')).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure?.message).not.toMatch(/in progress/);
  });
});
