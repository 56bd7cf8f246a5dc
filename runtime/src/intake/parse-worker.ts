/** A parser thread of the pool (parser-pool.ts): raw bytes in, PecEnvelope out. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTrustAnchors, parsePec } from '@pectrack/connector-pec';

interface Request {
  id: number;
  raw: Uint8Array;
}

const sources = (workerData as { trustAnchors?: (string | Uint8Array)[] } | null)?.trustAnchors;
const anchors = sources ? loadTrustAnchors(sources) : undefined;

parentPort?.on('message', async ({ id, raw }: Request) => {
  try {
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const envelope = await parsePec(bytes, anchors ? { trustAnchors: anchors } : {});
    parentPort?.postMessage({ id, envelope });
  } catch (error) {
    parentPort?.postMessage({ id, error: (error as Error).message });
  }
});
