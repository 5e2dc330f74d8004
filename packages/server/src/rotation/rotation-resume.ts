import { CustosError } from '@custos/core/errors';
import { isServerError } from '../errors.js';
import type { RunDriver } from './rotation-drive.js';
import type { EngineParts } from './rotation-engine-parts.js';
import type { RotationResult } from './rotation-types.js';
import { runLeaseEnded } from './run-lease.js';

/** Taking up runs a crash (or a node that lost its lease) left running. */
export interface RunResumption {
  /**
   * Continues the run left running for `secret` (`<mount>/<key>`); undefined when none, or
   * while a live node (or this engine) holds its lease.
   */
  resume(secret: string, staleMs?: number): Promise<RotationResult | undefined>;
  /**
   * Continues every run left running whose lease ended (its node died or gave it up); a run
   * saved without a lease (before leases) once it was not saved for `staleMs` (default 0).
   */
  resumeAll(staleMs?: number): Promise<RotationResult[]>;
}

/**
 * Creates the engine's resumption of runs (rotation/NOTES.md, "Leases"): a run is claimed at
 * the revision read (of two nodes one gets it) and driven from the step it was saved at.
 *
 * @example
 * ```ts
 * const { resume } = createRunResumption(parts, driver);
 * await resume('secret/app/db');
 * ```
 */
export function createRunResumption(parts: EngineParts, driver: RunDriver): RunResumption {
  const { store, owner, runLeaseMs } = parts;
  const clock = parts.deps.clock;

  const resume = async (secret: string, staleMs = 0) => {
    const found = await store.readRun(secret);
    if (found === undefined || found.state !== 'running') return undefined;
    // Held: by this engine driving it, or by a live node (a run this engine left is its own).
    if (driver.driving.has(secret)) return undefined;
    if (found.owner !== owner && !runLeaseEnded(found, clock(), staleMs)) return undefined;
    const policy = await store.readPolicy(secret);
    if (policy === undefined) {
      // The policy went while the run was cut short: roll back with what the run recorded.
      throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
    }
    driver.driving.add(secret);
    const run = await store
      .claimRun(secret, { owner, nowMs: clock(), leaseMs: runLeaseMs, staleMs })
      .catch((err: unknown) => {
        driver.driving.delete(secret);
        throw err;
      });
    if (run === undefined) {
      driver.driving.delete(secret);
      return undefined;
    }
    return driver.drive(run, policy);
  };

  return {
    resume,
    async resumeAll(staleMs) {
      const out: RotationResult[] = [];
      for (const secret of await store.listRunning()) {
        let result: RotationResult | undefined;
        try {
          result = await resume(secret, staleMs);
        } catch (err) {
          // Taken over by another node while this one drove it (or this node is stopping).
          if (isServerError(err, 'ERR_ROTATION_IN_PROGRESS')) continue;
          throw err;
        }
        if (result !== undefined) out.push(result);
      }
      return out;
    },
  };
}
