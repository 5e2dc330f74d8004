import type { JobState } from './background-jobs.js';
import type { RotationRun } from './rotation-store.js';

/** A KV secret a policy covers: its mount and its key in the mount. */
export interface SecretRef {
  readonly mount: string;
  readonly key: string;
}

/** `<mount>/<key>`: how the store and the API name a secret. */
export const secretName = (ref: SecretRef): string => `${ref.mount}/${ref.key}`;

/** Who asks for a rotation and why. */
export interface RotateOptions {
  /** A token accessor, or `scheduler`. */
  readonly by: string;
  /**
   * Start only if the secret's last run is still this one (`null`: none): the scheduler's
   * guard against two nodes rotating one due secret twice. Refused: result `skipped`.
   */
  readonly after?: string | null;
  readonly reason?: string;
  /** The identities that approved the rotation (two-person approval), recorded with it. */
  readonly approvedBy?: readonly string[];
  /** Runs create (discarded) and the rotator's preflight only: nothing is written or applied. */
  readonly dryRun?: boolean;
  /**
   * The KV version id the pending version gets (the Secrets Manager API's
   * `ClientRequestToken`); default the rotation id. A version id the secret already has is
   * never adopted unless it is this rotation's pending version (rotation/NOTES.md).
   */
  readonly versionId?: string;
}

/** What a rotation (or a dry run) came to. Never holds a value. */
export interface RotationResult {
  readonly id: string;
  readonly secret: string;
  readonly result: 'succeeded' | 'rolled_back' | 'failed' | 'planned' | 'skipped';
  readonly steps: RotationRun['steps'];
  readonly error?: string;
  readonly from_version?: number;
  readonly new_version?: number;
  readonly new_fingerprint?: string;
  readonly retire_after?: string;
  readonly plan?: Record<string, unknown>;
  /** The rotator's background work (a `transit-key` rewrap), when it has some: its state. */
  readonly background?: JobState;
}
