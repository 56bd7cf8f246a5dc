import type { PecEnvelope } from '../parser/types.js';

/** What a parse worker is started with. */
export interface WorkerSettings {
  trustAnchors: ReadonlyArray<string | Uint8Array> | null;
  inner: 'full' | 'outline';
}

export interface PoolRequest {
  id: number;
  raw: Uint8Array;
  /** This message only: overrides the worker's reading of the inner message. */
  inner?: 'full' | 'outline';
  /** ParseOptions.receivedAt, as milliseconds. */
  receivedAt?: number;
}

export type PoolResponse = { id: number; envelope: PecEnvelope } | { id: number; error: string };
