/**
 * The parse worker: receives raw messages from a ParsePool and answers with their envelopes.
 * Trust anchors arrive once, as PEM text or DER bytes, in workerData.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parsePec } from '../parser/parse.js';
import type { ParseOptions } from '../parser/types.js';
import { loadTrustAnchors } from '../signature/anchors.js';
import type { PoolRequest, PoolResponse, WorkerSettings } from './protocol.js';

const settings = workerData as WorkerSettings;
const options: ParseOptions = { inner: settings.inner };
if (settings.trustAnchors) {
  try {
    options.trustAnchors = loadTrustAnchors(settings.trustAnchors);
  } catch {
    // parsePec reports unusable anchors itself, message by message.
    options.trustAnchors = settings.trustAnchors;
  }
}

parentPort!.on('message', (request: PoolRequest) => {
  void parsePec(Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength), {
    ...options,
    ...(request.inner && { inner: request.inner }),
    ...(request.receivedAt !== undefined && { receivedAt: new Date(request.receivedAt) }),
  })
    .then((envelope): PoolResponse => ({ id: request.id, envelope }))
    .catch((error: unknown): PoolResponse => ({
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
    }))
    .then((response) => parentPort!.postMessage(response));
});
