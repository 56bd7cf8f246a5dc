import { describe, expect, it } from 'vitest';
import { composePec, OutgoingPecError } from './compose.js';

describe('composePec', () => {
  const message = {
    from: 'protocollo@comune.pec.test',
    to: ['ufficio@regione.pec.test'],
    cc: ['urp@comune.pec.test'],
    subject: 'Trasmissione',
    text: 'In allegato.',
  };

  it('builds the bytes with the Message-ID receipts will refer to, envelope To + Cc', async () => {
    const composed = await composePec({
      ...message,
      messageId: '<abc.1@comune.pec.test>',
      attachments: [{ filename: 'atto.pdf', content: Buffer.from('%PDF-1.4') }],
    });
    const text = composed.raw.toString('latin1');
    expect(composed.messageId).toBe('<abc.1@comune.pec.test>');
    expect(text).toMatch(/^Message-ID: <abc\.1@comune\.pec\.test>$/m);
    expect(text).toContain('atto.pdf');
    expect(composed.envelope).toEqual({
      from: message.from,
      to: ['ufficio@regione.pec.test', 'urp@comune.pec.test'],
    });
  });

  it('generates a Message-ID in the sender domain and asks for a breve receipt when told', async () => {
    const composed = await composePec({ ...message, receiptType: 'breve' });
    expect(composed.messageId).toMatch(/^<[0-9a-f-]{36}@comune\.pec\.test>$/);
    expect(composed.raw.toString('latin1')).toMatch(/^X-TipoRicevuta: breve\r?$/im); // header names are case-insensitive; nodemailer writes X-Tiporicevuta
  });

  it('names the field of bad input', async () => {
    await expect(composePec({ ...message, to: [] })).rejects.toMatchObject({ field: 'to' });
    await expect(composePec({ ...message, to: ['not an address'] })).rejects.toBeInstanceOf(
      OutgoingPecError,
    );
    await expect(composePec({ ...message, messageId: 'no-brackets@x' })).rejects.toMatchObject({
      field: 'messageId',
    });
  });
});
