/**
 * The runtime side of connector calls: connector type → handler. The connector SDK
 * plugs its actions in here; tests register their own.
 */
import type { Variables } from '../engine/types.js';

export interface ConnectorCallContext {
  signal: AbortSignal;
  /** Stable across retries and redeliveries of the same call: receivers deduplicate on it. */
  idempotencyKey: string;
  tenantId: string;
  instanceId: string;
  elementId: string;
  attempt: number;
}

/**
 * A thrown error is retried with backoff, then becomes an incident; one carrying
 * `retryable: false` (the SDK's ConnectorError sets it) becomes the incident at once.
 */
export type ConnectorHandler = (
  input: Variables,
  context: ConnectorCallContext,
) => Promise<Variables>;

export class ConnectorRegistry {
  private readonly handlers = new Map<string, ConnectorHandler>();

  register(type: string, handler: ConnectorHandler): this {
    this.handlers.set(type, handler);
    return this;
  }

  get(type: string): ConnectorHandler | undefined {
    return this.handlers.get(type);
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
