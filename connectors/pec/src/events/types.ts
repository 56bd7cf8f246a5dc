/**
 * One event model for PEC receipts and REM evidence, so the delivery state machine does not care
 * which profile a provider speaks. `submitted` is recorded by the sender itself when it hands a
 * message to its provider; every other type comes from a receipt or an evidence.
 */
export type DeliveryEventType =
  'submitted' | 'accepted' | 'relayed' | 'delivered' | 'failed' | 'timeout' | 'anomaly';

export interface DeliveryEvent {
  type: DeliveryEventType;
  /** The raw evidence type as the provider named it: a daticert `tipo`, `anomalia`, or a REM evidence name. */
  evidence: string;
  /** The recipients this event is about (empty when it concerns the message as a whole). */
  recipients: string[];
  /**
   * Recipients the provider reached as ordinary e-mail (daticert `destinatari tipo="esterno"`):
   * no delivery receipt will ever come for them, so their state ends at acceptance.
   */
  external: string[];
  /** ISO 8601 UTC time the provider certified, when it says. */
  at: string | null;
  reason: string | null;
}
