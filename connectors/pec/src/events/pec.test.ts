import { describe, expect, it } from 'vitest';
import type { CertData } from '../daticert/types.js';
import { pecEvent } from './pec.js';

const cert = (tipo: string, extra: Partial<CertData> = {}): CertData => ({
  tipo,
  errore: 'nessuno',
  mittente: 'protocollo@comune.pec.test',
  destinatari: [
    { address: 'ufficio@regione.pec.test', tipo: 'certificato' },
    { address: 'mario.rossi@posta.example.it', tipo: ' Esterno ' },
  ],
  risposte: null,
  oggetto: null,
  gestoreEmittente: null,
  data: '2026-11-27T10:00:00.000Z',
  identificativo: 'opec.1@pec.test',
  msgid: '<a@b>',
  ricevuta: null,
  consegna: null,
  ricezione: [],
  erroreEsteso: null,
  ...extra,
});

describe('pecEvent', () => {
  it('names the ordinary-mail (esterno) recipients of an acceptance', () => {
    expect(pecEvent('accettazione', cert('accettazione'))).toMatchObject({
      type: 'accepted',
      recipients: ['ufficio@regione.pec.test', 'mario.rossi@posta.example.it'],
      external: ['mario.rossi@posta.example.it'],
    });
  });

  it('names none for a receipt about one delivery, which lists every recipient too', () => {
    const event = pecEvent(
      'avvenuta-consegna',
      cert('avvenuta-consegna', { consegna: 'ufficio@regione.pec.test' }),
    );
    expect(event).toMatchObject({ recipients: ['ufficio@regione.pec.test'], external: [] });
  });
});
