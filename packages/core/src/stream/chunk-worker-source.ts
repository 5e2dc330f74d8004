/**
 * The code of a chunk worker thread, run with `eval` so it needs no file of its own (it works the
 * same from the TypeScript sources under test and from the build). It seals or opens a batch of
 * consecutive 64 KiB chunks with `node:crypto` and answers:
 *
 * - seal `{ id, data, counter, last }`: `data` is the plaintext of the batch (every chunk full
 *   unless `last`); the answer's pieces are the sealed chunks, each ciphertext then tag.
 * - open `{ id, data, counter }`: `data` is whole sealed chunks, none of them the last; the
 *   answer's pieces are the plaintexts of the chunks that authenticated, in order, up to the
 *   first that did not (`failed`: its counter). A plaintext joins the answer only after its tag
 *   verified.
 *
 * The pieces are the cipher's own buffers (no copy), and `data` comes back as `input` for the
 * next batch: everything is transferred, not copied.
 */
export const CHUNK_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createDecipheriv } = require('node:crypto');
const CHUNK = ${2 ** 16};
const TAG = 16;
const SEALED = CHUNK + TAG;
const key = workerData.key;
const nonce = Buffer.alloc(12);
function nonceOf(counter, last) {
  nonce.fill(0);
  nonce.writeUInt32BE(Math.floor(counter / 2 ** 32), 3);
  nonce.writeUInt32BE(counter >>> 0, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}
function seal({ id, data, counter, last }) {
  const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const chunks = Math.max(1, Math.ceil(input.length / CHUNK));
  const tags = Buffer.allocUnsafeSlow(chunks * TAG);
  const pieces = [];
  for (let i = 0; i < chunks; i++) {
    const isLast = last && i === chunks - 1;
    const cipher = createCipheriv('aes-256-gcm', key, nonceOf(counter + i, isLast), { authTagLength: TAG });
    const body = cipher.update(input.subarray(i * CHUNK, Math.min(input.length, (i + 1) * CHUNK)));
    if (cipher.final().length !== 0) throw new Error('GCM final gave bytes');
    cipher.getAuthTag().copy(tags, i * TAG);
    pieces.push(body, tags.subarray(i * TAG, (i + 1) * TAG));
  }
  answer(id, pieces, data, -1);
}
function open({ id, data, counter }) {
  const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const chunks = input.length / SEALED;
  const pieces = [];
  let failed = -1;
  for (let i = 0; i < chunks; i++) {
    const sealed = input.subarray(i * SEALED, (i + 1) * SEALED);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(counter + i, false), { authTagLength: TAG });
      decipher.setAuthTag(sealed.subarray(CHUNK));
      const body = decipher.update(sealed.subarray(0, CHUNK));
      if (decipher.final().length !== 0) throw new Error('GCM final gave bytes');
      // Released only now that the tag verified.
      pieces.push(body);
    } catch {
      failed = counter + i;
      break;
    }
  }
  answer(id, pieces, data, failed);
}
/** The pieces (each with its own memory), and the input given back for reuse: all transferred. */
function answer(id, pieces, input, failed) {
  const transfer = new Set(pieces.map((p) => p.buffer));
  transfer.add(input.buffer);
  parentPort.postMessage({ id, pieces, input, failed }, [...transfer]);
}
parentPort.on('message', (job) => (job.op === 'seal' ? seal(job) : open(job)));
`;
