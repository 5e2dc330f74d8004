import type { UsageRecorder } from '../key-usage.js';
import type { TransitStore } from '../transit-store.js';
import type { UsageLog } from '../usage-log.js';

/**
 * What transit's path groups are built from. Each group takes only the members it uses
 * (`Pick<TransitPathDeps, …>`).
 */
export interface TransitPathDeps {
  readonly transit: TransitStore;
  readonly usage: UsageLog;
  readonly recorder: UsageRecorder;
  /** Told of every item whose error may be a tamper signal (a ciphertext that did not open). */
  readonly onItemError?: (error: unknown) => void;
}
