import { parentPort, workerData } from 'node:worker_threads';
import { claimFile } from './file-queue.js';
import { scanFile } from './scan-file.js';
import { scanOptionsOf } from './worker-pool.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

// A worker thread of scanPaths: claims files from the shared list until none is left, and posts
// each result.
const { files, next, options, cache } = workerData as WorkerRequest;
const scanOptions = scanOptionsOf(options);
const counter = new Int32Array(next);
for (let file = claimFile(counter, files); file !== undefined; file = claimFile(counter, files)) {
  const result = await scanFile(file, scanOptions, cache);
  parentPort?.postMessage({ type: 'file', file: file.relative, result } satisfies WorkerReply);
}
parentPort?.postMessage({ type: 'done' } satisfies WorkerReply);
