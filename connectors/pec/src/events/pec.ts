import type { CertData } from '../daticert/types.js';
import type { DeliveryEvent, DeliveryEventType } from './types.js';

export const PEC_TIPI = [
  'posta-certificata',
  'accettazione',
  'non-accettazione',
  'presa-in-carico',
  'avvenuta-consegna',
  'errore-consegna',
  'preavviso-errore-consegna',
  'rilevazione-virus',
] as const;

export type PecTipo = (typeof PEC_TIPI)[number];

export function isPecTipo(value: string): value is PecTipo {
  return (PEC_TIPI as readonly string[]).includes(value);
}

const EVENT_OF_TIPO: Record<PecTipo, DeliveryEventType | null> = {
  'posta-certificata': null,
  accettazione: 'accepted',
  'non-accettazione': 'failed',
  'presa-in-carico': 'relayed',
  'avvenuta-consegna': 'delivered',
  'errore-consegna': 'failed',
  'preavviso-errore-consegna': 'timeout',
  'rilevazione-virus': 'failed',
};

/** The normalised event a PEC receipt stands for; a transport envelope is a message, not an event. */
export function pecEvent(kind: PecTipo | 'anomalia', cert: CertData | null): DeliveryEvent | null {
  if (kind === 'anomalia')
    return {
      type: 'anomaly',
      evidence: kind,
      recipients: [],
      external: [],
      at: cert?.data ?? null,
      reason: null,
    };
  const type = EVENT_OF_TIPO[kind];
  if (!type) return null;
  return {
    type,
    evidence: kind,
    recipients: recipientsOf(kind, cert),
    external: externalOf(kind, cert),
    at: cert?.data ?? null,
    reason: reasonOf(cert),
  };
}

/**
 * Delivery-side receipts: one per recipient, the one `<consegna>` names (docs/pec.md). Their
 * `destinatari` list the original message's recipients, so without `consegna` such a receipt
 * names no one, and its event lists none (the runtime then moves no recipient it cannot tell).
 */
export const PER_RECIPIENT_TIPI: ReadonlySet<string> = new Set([
  'avvenuta-consegna',
  'errore-consegna',
  'preavviso-errore-consegna',
]);

function recipientsOf(kind: PecTipo, cert: CertData | null): string[] {
  if (!cert) return [];
  if (cert.consegna) return [bareAddress(cert.consegna)];
  if (PER_RECIPIENT_TIPI.has(kind)) return [];
  if (kind === 'presa-in-carico') return cert.ricezione.map(bareAddress);
  return cert.destinatari.map((d) => bareAddress(d.address));
}

/** `Ragioneria <ragioneria@ente.pec.it>` as some providers write it: the address inside. */
function bareAddress(value: string): string {
  return /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value)?.[1] ?? value.trim();
}

/** Only an acceptance speaks for every recipient; a delivery-side receipt names one it tried. */
function externalOf(kind: PecTipo, cert: CertData | null): string[] {
  if (!cert || kind !== 'accettazione') return [];
  return cert.destinatari
    .filter((d) => d.tipo.trim().toLowerCase() === 'esterno')
    .map((d) => bareAddress(d.address));
}

function reasonOf(cert: CertData | null): string | null {
  if (!cert) return null;
  if (cert.erroreEsteso) return cert.erroreEsteso;
  return cert.errore && cert.errore !== 'nessuno' ? cert.errore : null;
}
