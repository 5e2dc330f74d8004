import { parentPort, workerData } from 'node:worker_threads';
import { scanOptionsOf } from '../files/worker-pool.js';
import {
  type HistoryWorkerReply,
  type HistoryWorkerRequest,
  scanClaimedBlobs,
} from './history-share.js';

// A worker thread of scanGitHistory: claims blobs until none is left, posting each claim's results.
const { blobs, next, cwd, options } = workerData as HistoryWorkerRequest;
await scanClaimedBlobs(blobs, new Int32Array(next), cwd, scanOptionsOf(options), (start, results) =>
  parentPort?.postMessage({ type: 'blobs', start, results } satisfies HistoryWorkerReply),
);
parentPort?.postMessage({ type: 'done' } satisfies HistoryWorkerReply);
