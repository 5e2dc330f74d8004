import { serveJobs } from '../files/thread-pool.js';
import { scanOptionsOf } from '../files/worker-pool.js';
import {
  type HistoryWorkerReply,
  type HistoryWorkerRequest,
  scanClaimedBlobs,
} from './history-share.js';

// A worker thread of scanGitHistory: for each history scan it is given, claims blobs until none
// is left, posting each claim's results. It stays warm for the next scan (thread-pool.ts).
serveJobs<HistoryWorkerRequest, HistoryWorkerReply>(({ blobs, next, cwd, options }, post) =>
  scanClaimedBlobs(blobs, new Int32Array(next), cwd, scanOptionsOf(options), (start, results) =>
    post({ type: 'blobs', start, results } satisfies HistoryWorkerReply),
  ),
);
