import { parentPort, workerData } from 'node:worker_threads';
import { scanFile } from './scan-file.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

// A worker thread of scanPaths: scans the files it is dealt and posts each result.
const { files, options, cache } = workerData as WorkerRequest;
const { baseline, ...rest } = options;
const scanOptions = { ...rest, ...(baseline ? { baseline: new Set(baseline) } : {}) };
for (const file of files) {
  const result = await scanFile(file, scanOptions, cache);
  parentPort?.postMessage({ type: 'file', file: file.relative, result } satisfies WorkerReply);
}
parentPort?.postMessage({ type: 'done' } satisfies WorkerReply);
