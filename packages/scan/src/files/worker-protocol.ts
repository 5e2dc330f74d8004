import type { Allowlist } from '../policy/allowlist.js';
import type { Confidence } from '../rules/rule.js';
import type { ListedFile } from './list-files.js';
import type { CacheEntries, FileResult } from './scan-file.js';

/** Scan options that cross to a worker thread (structured-clone safe: no functions, no sets). */
export interface WorkerOptions {
  readonly fingerprintKey?: string;
  readonly allowlist?: Allowlist;
  readonly baseline?: readonly string[];
  readonly minConfidence?: Confidence;
  readonly maxFileBytes?: number;
  readonly scanMinified?: boolean;
}

/** What a worker is given for one scan (the job posted to it). */
export interface WorkerRequest {
  /** Every file of the scan, largest first, shared with the calling thread and other workers. */
  readonly files: readonly ListedFile[];
  /** One `Int32`: the index of the next file to claim (see `claimFile`). */
  readonly next: SharedArrayBuffer;
  readonly options: WorkerOptions;
  /** The scan cache's stored entries, when a cache is used. */
  readonly cache?: CacheEntries;
}

/** What a worker posts: one message per file it claimed, then `done`. */
export type WorkerReply =
  | { readonly type: 'file'; readonly file: string; readonly result: FileResult }
  | { readonly type: 'done' };
