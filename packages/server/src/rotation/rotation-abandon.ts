import { CustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';
import type { RotationRun, RotationStore } from './rotation-store.js';

/** What abandoning needs of the engine. */
export interface AbandonDeps {
  readonly store: Pick<
    RotationStore,
    'readJob' | 'abandonJob' | 'readRun' | 'saveRun' | 'history' | 'appendHistory'
  >;
  readonly clock: () => number;
  /** Runs `work` as an audited step of `run` (the audit broker records the request first). */
  audited<T>(run: RotationRun, step: string, work: () => Promise<T>): Promise<T>;
}

/** Who abandons, and why (required: the history and the audit log keep it). */
export interface AbandonRequest {
  /** A token accessor. */
  readonly by: string;
  readonly reason: string;
}

/**
 * Ends the background work of the secret's last rotation as `abandoned` (rotation/NOTES.md,
 * "Abandoning"): it never runs again, new rotations of the secret may start, and the value it
 * replaced is never retired automatically (a rewrap that did not finish leaves ciphertexts
 * under the old key version: the operator decides when to retire it). Audited as an `abandon`
 * step with who and why, recorded in the run and its history entry. The run as recorded.
 *
 * @example
 * ```ts
 * await abandonBackground(deps, 'secret/keys/orders', { by: accessor, reason: 'db dropped' });
 * ```
 */
export async function abandonBackground(
  deps: AbandonDeps,
  secret: string,
  request: AbandonRequest,
): Promise<RotationRun> {
  const { store } = deps;
  const job = await store.readJob(secret);
  if (job === undefined || job.state === 'done' || job.state === 'abandoned')
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `${secret} has no background work left to abandon (${job === undefined ? 'none' : job.state})`,
    );
  const current = await store.readRun(secret);
  const run =
    current?.id === job.rotation_id
      ? current
      : (await store.history(secret)).find((r) => r.id === job.rotation_id);
  if (run === undefined)
    throw new CustosError('ERR_NOT_FOUND', 'the rotation the background work belongs to is gone');
  if (run.state === 'running')
    throw new ServerError(
      'ERR_ROTATION_IN_PROGRESS',
      `the rotation of ${secret} has not ended yet: its background work starts after it`,
    );
  // The audit record names who abandons and why (not who started the rotation).
  const asked: RotationRun = { ...run, by: request.by, reason: request.reason };
  const time = new Date(deps.clock()).toISOString();
  await deps.audited(asked, 'abandon', async () => {
    const by = { accessor: request.by, reason: request.reason };
    if ((await store.abandonJob(secret, run.id, deps.clock(), by)) === undefined)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `the background work of ${secret} ended meanwhile: nothing was abandoned`,
      );
  });
  const recorded: RotationRun = {
    ...run,
    steps: [...run.steps, { step: 'background', result: 'skipped', time }],
    abandoned: { by: request.by, reason: request.reason, time },
  };
  if ((await store.readRun(secret))?.id === run.id) await store.saveRun(recorded);
  await store.appendHistory(recorded);
  return recorded;
}
