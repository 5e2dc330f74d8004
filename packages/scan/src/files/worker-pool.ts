import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ScanTextOptions } from '../engine/scan-text.js';
import type { FileLimits } from './scan-file.js';
import type { WorkerOptions } from './worker-protocol.js';

/**
 * How many worker threads scan beside the calling thread: `requested` when a number; for
 * `auto` (or none) one per core but the calling thread's (at most 8 threads in all) when the
 * work is `large` enough to repay starting them, else none. None for custom rules (functions
 * cannot cross to another thread) or when the worker script is not built (running from sources).
 */
export function workerThreads(
  requested: number | 'auto' | undefined,
  options: { readonly customRules: boolean; readonly large: boolean; readonly script: URL },
): number {
  if (options.customRules || !existsSync(fileURLToPath(options.script))) return 0;
  if (typeof requested === 'number') return Math.max(0, Math.floor(requested));
  const cores = availableParallelism();
  return cores > 1 && options.large ? Math.min(cores, 8) - 1 : 0;
}

/** The scan options that cross to a worker thread (structured-clone safe). */
export function workerOptions(options: Omit<ScanTextOptions, 'name'> & FileLimits): WorkerOptions {
  return {
    ...(options.fingerprintKey !== undefined ? { fingerprintKey: options.fingerprintKey } : {}),
    ...(options.allowlist !== undefined ? { allowlist: options.allowlist } : {}),
    ...(options.baseline !== undefined ? { baseline: [...options.baseline] } : {}),
    ...(options.minConfidence !== undefined ? { minConfidence: options.minConfidence } : {}),
    ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
    ...(options.scanMinified !== undefined ? { scanMinified: options.scanMinified } : {}),
  };
}

/** {@link workerOptions} back in a worker: the baseline a set again. */
export function scanOptionsOf(options: WorkerOptions): Omit<ScanTextOptions, 'name'> & FileLimits {
  const { baseline, ...rest } = options;
  return { ...rest, ...(baseline ? { baseline: new Set(baseline) } : {}) };
}
