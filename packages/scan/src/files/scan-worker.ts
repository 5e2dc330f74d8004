import { claimFile } from './file-queue.js';
import { scanFile } from './scan-file.js';
import { serveJobs } from './thread-pool.js';
import { scanOptionsOf } from './worker-pool.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

// A worker thread of scanPaths: for each scan it is given, claims files from the shared list
// until none is left, and posts each result. It stays warm for the next scan (thread-pool.ts).
serveJobs<WorkerRequest, WorkerReply>(async ({ files, next, options, cache }, post) => {
  const scanOptions = scanOptionsOf(options);
  const counter = new Int32Array(next);
  for (let file = claimFile(counter, files); file !== undefined; file = claimFile(counter, files)) {
    const result = await scanFile(file, scanOptions, cache);
    post({ type: 'file', file: file.relative, result } satisfies WorkerReply);
  }
});
