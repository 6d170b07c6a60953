// Worker thread of BatchLoader: builds augmented float32 batches off the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { buildBatchX, type BatchRequest } from './batch-build.ts';

// Pixels arrive once, SharedArrayBuffer-backed, so no per-batch copy of the data set.
const { pixels, size } = workerData as { pixels: Uint8Array; size: number };
const port = parentPort;
if (port === null) throw new Error('batch-worker.ts: must run as a worker thread');

port.on('message', (req: BatchRequest) => {
  try {
    const x = buildBatchX(pixels, size, req);
    port.postMessage({ id: req.id, x }, [x.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) });
  }
});
