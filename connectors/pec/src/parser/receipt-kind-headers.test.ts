import { beforeAll, describe, expect, it } from 'vitest';
import { parsePec, type PecEnvelope } from '../index.js';
import { loadTrustAnchors, type TrustAnchors } from '../signature/anchors.js';
import {
  buildAnomalyEnvelope,
  createTestCa,
  createTestProvider,
  type TestProvider,
} from '../testkit/index.js';

/**
 * The attack: anyone sends ordinary mail to a PEC box (their own is enough); the provider wraps it
 * in an anomaly envelope (X-Trasporto: errore, postacert.eml only, NO daticert, docs/pec.md) and
 * signs the content. The outer header fields are not covered by the S/MIME signature (RFC 8551
 * 3.5: only the first part of multipart/signed is signed), so the holder can rewrite them to
 * `X-Ricevuta: <receipt>` and `X-Riferimento-Message-ID: <a message the body sent>` and deliver
 * the result to the body's mailbox. The signed part still verifies: `valid`.
 */
function relabel(raw: Buffer, receipt: string, referencedId: string): Buffer {
  return Buffer.from(
    raw
      .toString('latin1')
      .replace(/^X-Trasporto: errore$/m, `X-Ricevuta: ${receipt}`)
      .replace(/^X-Riferimento-Message-ID: .*$/m, `X-Riferimento-Message-ID: ${referencedId}`),
    'latin1',
  );
}

/**
 * What runtime/src/intake/facts.ts (receiptDoubtOf) and intake/receipts.ts (takeReceipt) apply to
 * the referenced outgoing message: an event other than `anomaly`, a referenced id, and a `valid`
 * signature. Null when the envelope would not move a delivery state.
 */
function appliedAsCertifiedReceipt(envelope: PecEnvelope): string | null {
  const { event, signature, originalMessageId } = envelope;
  if (!event || event.type === 'anomaly' || !originalMessageId) return null;
  if (signature.status !== 'valid') return null;
  return `${envelope.kind} (event ${event.type}) for ${originalMessageId} with a ${signature.status} signature, certData ${JSON.stringify(envelope.certData)}`;
}

let anchors: TrustAnchors;
let provider: TestProvider;
beforeAll(() => {
  const ca = createTestCa();
  anchors = loadTrustAnchors([ca.certificate]);
  provider = createTestProvider(ca, { domain: 'pec.provider.test', name: 'Gestore S.p.A.' });
});

describe('receipt kind taken from unsigned headers over a validly signed body', () => {
  for (const receipt of ['non-accettazione', 'errore-consegna', 'avvenuta-consegna']) {
    it(`a signed anomaly envelope relabelled "X-Ricevuta: ${receipt}" must not count as a certified ${receipt}`, async () => {
      const anomaly = buildAnomalyEnvelope({
        provider,
        message: {
          from: 'chiunque@gmail.test',
          to: ['casella@pec.provider.test'],
          subject: 'qualsiasi cosa',
          text: 'testo qualsiasi',
        },
      });
      const forged = relabel(anomaly, receipt, '<protocollo-4711@comune.test>');
      const envelope = await parsePec(forged, { trustAnchors: anchors });
      // A receipt's legal value is its signed daticert.xml (docs/pec.md: "Classify by headers and
      // daticert"; parse.ts itself says "daticert is signed and wins over headers, which anyone on
      // the way may add or change"). Here there is no signed daticert at all: kind, event and the
      // referenced Message-ID all come from header fields the signature does not cover, so a
      // `valid` status must not be reported together with a receipt event (a forged receipt must
      // never count as valid).
      expect(appliedAsCertifiedReceipt(envelope)).toBeNull();
    });
  }
});
