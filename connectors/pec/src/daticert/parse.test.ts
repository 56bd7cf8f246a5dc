import { describe, expect, it } from 'vitest';
import { parseDaticert } from './parse.js';

function parse(xml: string) {
  const problems: string[] = [];
  return { cert: parseDaticert(Buffer.from(xml, 'utf8'), problems), problems };
}

describe('parseDaticert', () => {
  it('converts giorno/ora/zona to UTC, decodes escaped msgid and reads repeated elements', () => {
    const { cert, problems } = parse(`<?xml version="1.0" encoding="UTF-8"?>
      <postacert tipo="presa-in-carico" errore="nessuno">
        <intestazione>
          <mittente>a@pec.test</mittente>
          <destinatari>b@pec.test</destinatari>
          <destinatari tipo="esterno">c@mail.test</destinatari>
          <risposte>a@pec.test</risposte>
        </intestazione>
        <dati>
          <gestore-emittente>Gestore &amp; Figli</gestore-emittente>
          <data zona="+0200"><giorno>01/07/2026</giorno><ora>00:30:00</ora></data>
          <identificativo>opec.1@pec.test</identificativo>
          <msgid>&lt;abc@client&gt;</msgid>
          <ricevuta/>
          <ricezione>b@pec.test</ricezione>
          <ricezione>d@pec.test</ricezione>
        </dati>
      </postacert>`);
    expect(problems).toEqual([]);
    expect(cert).toMatchObject({
      tipo: 'presa-in-carico',
      destinatari: [
        { address: 'b@pec.test', tipo: 'certificato' },
        { address: 'c@mail.test', tipo: 'esterno' },
      ],
      oggetto: null,
      gestoreEmittente: 'Gestore & Figli',
      data: '2026-06-30T22:30:00.000Z',
      msgid: '<abc@client>',
      ricevuta: 'completa',
      ricezione: ['b@pec.test', 'd@pec.test'],
      consegna: null,
      erroreEsteso: null,
    });
  });

  it('tolerates stray text and omitted optional elements', () => {
    const { cert, problems } = parse(
      '<postacert tipo="accettazione">stray<intestazione>text<mittente>a@pec.test</mittente></intestazione><dati><identificativo>x</identificativo></dati></postacert>',
    );
    expect(problems).toEqual([]);
    expect(cert).toMatchObject({
      tipo: 'accettazione',
      errore: 'nessuno',
      mittente: 'a@pec.test',
      destinatari: [],
      data: null,
      identificativo: 'x',
    });
  });

  it('reports an impossible date instead of inventing one', () => {
    const { cert, problems } = parse(
      '<postacert tipo="accettazione"><dati><data zona="+0100"><giorno>31/02/2026</giorno><ora>10:00:00</ora></data></dati></postacert>',
    );
    expect(cert?.data).toBeNull();
    expect(problems).toEqual(['daticert.xml <data> is not a real date and time']);
  });

  it('reads a daticert whose DOCTYPE only names an external DTD, as providers write it', () => {
    const body =
      '<postacert tipo="accettazione"><intestazione><mittente>a@pec.test</mittente></intestazione>' +
      '<dati><identificativo>opec.1@pec.test</identificativo><msgid>&lt;m@c&gt;</msgid></dati></postacert>';
    const prologs = [
      '<?xml version="1.0" encoding="UTF-8"?>\r\n<?xml-stylesheet type="text/xsl" href="https://gestore.test/dtd/postacert.xsl"?>\r\n<!DOCTYPE postacert PUBLIC "posta certificata" "https://gestore.test/dtd/postacert.dtd">\r\n\r\n',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE postacert SYSTEM "Postacert.dtd">\n',
      "<!-- gestore --><!DOCTYPE postacert SYSTEM 'http://evil.test/x.dtd' >",
      '<!DOCTYPE postacert>',
    ];
    for (const prolog of prologs)
      expect(parse(prolog + body), prolog).toEqual({
        cert: expect.objectContaining({
          tipo: 'accettazione',
          mittente: 'a@pec.test',
          identificativo: 'opec.1@pec.test',
          msgid: '<m@c>',
        }),
        problems: [],
      });
  });

  it('refuses an internal DTD subset, an ENTITY declaration or a DOCTYPE out of place', () => {
    const refused = [
      '<!DOCTYPE postacert [<!ENTITY a "x">]><postacert tipo="accettazione"><dati>&a;</dati></postacert>',
      '<!DOCTYPE postacert SYSTEM "Postacert.dtd" [<!ELEMENT postacert ANY>]><postacert tipo="accettazione"/>',
      '<!DOCTYPE postacert SYSTEM "Postacert.dtd"><!DOCTYPE postacert [<!ENTITY a "x">]><postacert tipo="accettazione"/>',
      '<!ENTITY a "x"><postacert tipo="accettazione"/>',
      '<postacert tipo="accettazione"><!DOCTYPE postacert SYSTEM "Postacert.dtd"></postacert>',
      '<!doctype postacert [<!ENTITY a "x">]><postacert tipo="accettazione"/>',
    ];
    for (const xml of refused)
      expect(parse(xml), xml).toEqual({
        cert: null,
        problems: ['daticert.xml declares a DOCTYPE or ENTITY: refused'],
      });
  });

  it('keeps syntax error positions right after an ignored DOCTYPE', () => {
    const { cert, problems } = parse(
      '<!DOCTYPE postacert\n SYSTEM "Postacert.dtd">\n<postacert tipo="x">\n<dati></postacert>',
    );
    expect(cert).toBeNull();
    expect(problems).toEqual([
      expect.stringMatching(/^daticert.xml is not well-formed XML: .*line 4/),
    ]);
  });

  it('does not parse a document far larger than any real daticert', () => {
    const padded = `<postacert tipo="accettazione"><dati>${' '.repeat(1024 * 1024)}</dati></postacert>`;
    expect(parse(padded)).toEqual({
      cert: null,
      problems: ['daticert.xml is larger than 1048576 bytes: not parsed'],
    });
  });

  it('reads every group of an element written both with and without a namespace prefix', () => {
    const { cert, problems } = parse(`
      <postacert xmlns:p="urn:x-test:postacert" tipo="presa-in-carico">
        <intestazione>
          <mittente>a@pec.test</mittente>
          <destinatari>b@pec.test</destinatari>
          <destinatari tipo="esterno">c@mail.test</destinatari>
          <p:destinatari>d@pec.test</p:destinatari>
          <p:destinatari tipo="esterno">e@mail.test</p:destinatari>
        </intestazione>
        <dati>
          <ricezione>b@pec.test</ricezione>
          <p:ricezione>d@pec.test</p:ricezione>
        </dati>
      </postacert>`);
    expect(problems).toEqual([]);
    expect(cert?.destinatari).toEqual([
      { address: 'b@pec.test', tipo: 'certificato' },
      { address: 'c@mail.test', tipo: 'esterno' },
      { address: 'd@pec.test', tipo: 'certificato' },
      { address: 'e@mail.test', tipo: 'esterno' },
    ]);
    expect(cert?.ricezione).toEqual(['b@pec.test', 'd@pec.test']);
  });

  it('reads prefixed attributes by local name, an unprefixed one winning', () => {
    const { cert, problems } = parse(`
      <p:postacert xmlns:p="urn:x-test:postacert" p:tipo="avvenuta-consegna" p:errore="no-dest">
        <p:intestazione>
          <p:destinatari p:tipo="esterno">c@mail.test</p:destinatari>
          <p:destinatari tipo="certificato" p:tipo="esterno">b@pec.test</p:destinatari>
        </p:intestazione>
        <p:dati>
          <p:data p:zona="+0100"><p:giorno>01/07/2026</p:giorno><p:ora>10:00:00</p:ora></p:data>
          <p:ricevuta p:tipo="breve"/>
        </p:dati>
      </p:postacert>`);
    expect(problems).toEqual([]);
    expect(cert).toMatchObject({
      tipo: 'avvenuta-consegna',
      errore: 'no-dest',
      destinatari: [
        { address: 'c@mail.test', tipo: 'esterno' },
        { address: 'b@pec.test', tipo: 'certificato' },
      ],
      data: '2026-07-01T09:00:00.000Z',
      ricevuta: 'breve',
    });
    const both = '<postacert xmlns:p="urn:x" p:tipo="accettazione" tipo="avvenuta-consegna"/>';
    expect(parse(both).cert?.tipo).toBe('avvenuta-consegna');
  });

  it('does not take a namespace declaration (xmlns:tipo) for an attribute', () => {
    expect(parse('<postacert xmlns:tipo="urn:x" xmlns:errore="urn:y"/>')).toEqual({
      cert: expect.objectContaining({ tipo: '', errore: 'nessuno' }),
      problems: ['daticert.xml <postacert> has no tipo attribute'],
    });
  });

  it('reports a missing root and an unknown ricevuta type', () => {
    expect(parse('<other/>').problems).toEqual(['daticert.xml has no <postacert> root element']);
    expect(
      parse('<postacert tipo="avvenuta-consegna"><dati><ricevuta tipo="lunga"/></dati></postacert>')
        .problems,
    ).toEqual(['daticert.xml <ricevuta tipo="lunga"> is not completa, breve or sintetica']);
  });
});
