import { beforeAll, describe, expect, it } from 'vitest';
import { parseDaticert } from '../src/daticert/parse.js';
import { parseEntity } from '../src/mime/entity.js';
import { parsePec } from '../src/parser/parse.js';
import { loadTrustAnchors, type TrustAnchors } from '../src/signature/anchors.js';
import {
  buildCertifiedMessage,
  createTestCa,
  createTestProvider,
  signDetached,
  type TestCa,
  type TestProvider,
} from '../src/testkit/index.js';

/*
 * Provider and client variants of real PEC traffic that the testkit's clean output does not
 * produce, built with the testkit (so signatures are real) and then altered as a provider or
 * client would (docs/pec.md: where real messages and the RFC differ, real messages win).
 */

const DATE = new Date('2024-03-05T09:11:12Z');
const ID = 'opec21010.20240305101112.1234.56.1.7@pec.aruba.it';
let ca: TestCa;
let provider: TestProvider;
let anchors: TrustAnchors;

beforeAll(() => {
  ca = createTestCa();
  provider = createTestProvider(ca, { domain: 'pec.aruba.test', name: 'ArubaPEC S.p.A.' });
  anchors = loadTrustAnchors([ca.certificatePem]);
});

const crlf = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');

function daticertXml(tipo: string, extra = '', oggetto = 'Richiesta di accesso agli atti'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="${tipo}" errore="nessuno">
<intestazione>
<mittente>mario.rossi@pec.it</mittente>
<destinatari tipo="certificato">protocollo@pec.comune.forli.fc.it</destinatari>
<destinatari tipo="certificato">ragioneria@pec.comune.forli.fc.it</destinatari>
<risposte>mario.rossi@pec.it</risposte>
<oggetto>${oggetto}</oggetto>
</intestazione>
<dati>
<gestore-emittente>ArubaPEC S.p.A.</gestore-emittente>
<data zona="+0100">
<giorno>05/03/2024</giorno>
<ora>10:11:12</ora>
</data>
<identificativo>${ID}</identificativo>
<msgid>&lt;client-1@pc.local&gt;</msgid>
${extra}</dati>
</postacert>
`;
}

function certified(headers: Array<[string, string]>, postacert?: Buffer, daticert?: Buffer) {
  return buildCertifiedMessage({
    provider,
    date: DATE,
    headers,
    notice: 'Messaggio di posta certificata',
    ...(postacert ? { postacert } : {}),
    ...(daticert ? { daticert } : {}),
  });
}

const ENVELOPE_HEADERS: Array<[string, string]> = [
  ['X-Riferimento-Message-ID', '<client-1@pc.local>'],
  ['X-Trasporto', 'posta-certificata'],
  ['Message-ID', `<${ID}>`],
  ['From', '"Per conto di: mario.rossi@pec.it" <posta-certificata@pec.aruba.it>'],
  ['Subject', 'POSTA CERTIFICATA: Richiesta'],
];

const parseBoth = async (raw: Buffer) => [
  await parsePec(raw, { trustAnchors: anchors }),
  await parsePec(raw, { trustAnchors: anchors, inner: 'outline' }),
];

describe('daticert.xml as providers write it', () => {
  const read = (bytes: Buffer) => {
    const problems: string[] = [];
    return { cert: parseDaticert(bytes, problems), problems };
  };
  const expected = {
    tipo: 'avvenuta-consegna',
    oggetto: 'Richiesta di accesso agli atti – Comune di Forlì',
    data: '2024-03-05T09:11:12.000Z',
    ricevuta: 'breve',
    consegna: 'protocollo@pec.comune.forli.fc.it',
    msgid: '<client-1@pc.local>',
  };
  const extra =
    '<ricevuta tipo="breve" />\n<consegna>protocollo@pec.comune.forli.fc.it</consegna>\n';

  it('UTF-8 with a BOM, CRLF line ends', () => {
    const xml = daticertXml('avvenuta-consegna', extra, expected.oggetto).replace(/\n/g, '\r\n');
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')]);
    expect(read(bytes)).toMatchObject({ cert: expected, problems: [] });
  });

  it('ISO-8859-1 declared, accented letters as Latin-1 bytes, en dash as a character reference', () => {
    const xml = daticertXml(
      'avvenuta-consegna',
      extra,
      'Richiesta di accesso agli atti &#8211; Comune di Forlì',
    ).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"');
    expect(read(Buffer.from(xml, 'latin1'))).toMatchObject({ cert: expected, problems: [] });
  });

  it('external DOCTYPE, comments and a stylesheet PI in the prolog, single-quoted attributes', () => {
    const xml = daticertXml('avvenuta-consegna', extra, expected.oggetto)
      .replace(
        '?>\n',
        "?>\n<!-- generato da PEC -->\n<?xml-stylesheet type='text/xsl' href='daticert.xsl'?>\n<!DOCTYPE postacert SYSTEM \"Postacert.dtd\">\n",
      )
      .replace('tipo="breve"', "tipo='breve'");
    expect(read(Buffer.from(xml, 'utf8'))).toMatchObject({ cert: expected, problems: [] });
  });
});

describe('header and MIME parameter variants', () => {
  it.each([
    [`attachment; filename*=UTF-8''Verbale%20Forl%C3%AC.pdf`, 'Verbale Forlì.pdf'],
    [
      `attachment;\r\n filename*0*=UTF-8''Verbale%20Forl%C3%AC;\r\n filename*1*=%20%E2%80%93%20bozza.pdf`,
      'Verbale Forlì – bozza.pdf',
    ],
    ['attachment; filename="Atto \\"bozza\\".pdf"', 'Atto "bozza".pdf'],
    ['attachment; filename="=?UTF-8?Q?Forl=C3=AC.pdf?="', 'Forlì.pdf'],
    [`attachment; filename*=iso-8859-1''Forl%EC.pdf`, 'Forlì.pdf'],
  ])('Content-Disposition %j names %j', (value, filename) => {
    const raw = Buffer.from(`Content-Disposition: ${value}\r\n\r\nx`, 'latin1');
    expect(parseEntity(raw, []).filename).toBe(filename);
  });
});

describe('postacert.eml as clients write it', () => {
  it('RFC 2047 words split across folds, QP body with soft breaks, Latin-1 sender name', async () => {
    const postacert = crlf(`Date: Tue, 5 Mar 2024 10:11:00 +0100 (CET)
From: =?iso-8859-1?Q?Niccol=F2_Rossi?= <mario.rossi@pec.it>
To: protocollo@pec.comune.forli.fc.it
Subject: =?utf-8?Q?Richiesta_di_accesso_agli_atti_=E2=80=93_Comune_di_Forl?=
\t=?utf-8?Q?=C3=AC?=
Message-ID: <${ID}>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Chiedo copia della delibera del Comune di Forl=C3=
=AC, con tut=
ti gli allegati =E2=80=93 grazie.
`);
    const raw = certified(
      ENVELOPE_HEADERS,
      postacert,
      Buffer.from(daticertXml('posta-certificata'), 'utf8'),
    );
    for (const envelope of await parseBoth(raw)) {
      expect(envelope).toMatchObject({
        kind: 'posta-certificata',
        providerId: ID,
        originalMessageId: '<client-1@pc.local>',
        signature: { status: 'valid' },
        problems: [],
        inner: {
          subject: 'Richiesta di accesso agli atti – Comune di Forlì',
          from: { address: 'mario.rossi@pec.it', name: 'Niccolò Rossi' },
          date: '2024-03-05T09:11:00.000Z',
        },
      });
    }
    const [full] = await parseBoth(raw);
    expect(full?.inner?.text).toBe(
      'Chiedo copia della delibera del Comune di Forlì, con tutti gli allegati – grazie.\n',
    );
  });

  it('raw 8-bit windows-1252 headers and body (Outlook)', async () => {
    const postacert = crlf(`Date: Tue, 5 Mar 2024 10:11:00 +0100
From: "Rossi, Mario" <mario.rossi@pec.it>
To: protocollo@pec.comune.forli.fc.it
Subject: Richiesta \x96 Comune di Forl\xec
Message-ID: <${ID}>
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: 8bit

Citt\xe0 di Forl\xec \x96 \x80 100
`);
    const raw = certified(
      ENVELOPE_HEADERS,
      postacert,
      Buffer.from(daticertXml('posta-certificata'), 'utf8'),
    );
    const [full, outline] = await parseBoth(raw);
    for (const envelope of [full, outline])
      expect(envelope?.inner).toMatchObject({
        subject: 'Richiesta – Comune di Forlì',
        from: { name: 'Rossi, Mario' },
      });
    expect(full?.inner?.text).toBe('Città di Forlì – € 100\n');
  });
});

describe('receipts with provider header variants', () => {
  const receipt = (headers: Array<[string, string]>, daticert: string) =>
    certified(headers, undefined, Buffer.from(daticert, 'utf8'));

  it('header names and values in any case and spacing, ids without angle brackets', async () => {
    const raw = receipt(
      [
        ['Message-Id', 'opec21010.consegna.1@pec.aruba.it'],
        ['x-ricevuta', '  Avvenuta-Consegna  '],
        ['X-RIFERIMENTO-MESSAGE-ID', 'client-1@pc.local'],
        ['X-Tiporicevuta', 'Sintetica'],
      ],
      daticertXml('avvenuta-consegna', '<consegna>protocollo@pec.comune.forli.fc.it</consegna>\n'),
    );
    expect(await parsePec(raw, { trustAnchors: anchors })).toMatchObject({
      kind: 'avvenuta-consegna',
      providerId: 'opec21010.consegna.1@pec.aruba.it',
      originalMessageId: '<client-1@pc.local>',
      receiptType: 'sintetica',
      signature: { status: 'valid' },
      event: { type: 'delivered', recipients: ['protocollo@pec.comune.forli.fc.it'] },
      problems: [],
    });
  });

  it('acceptance for many recipients names each of them', async () => {
    const raw = receipt(
      [
        ['X-Ricevuta', 'accettazione'],
        ['X-Riferimento-Message-ID', '<client-1@pc.local>'],
      ],
      daticertXml('accettazione'),
    );
    expect(await parsePec(raw, { trustAnchors: anchors })).toMatchObject({
      kind: 'accettazione',
      originalMessageId: '<client-1@pc.local>',
      event: {
        type: 'accepted',
        recipients: ['protocollo@pec.comune.forli.fc.it', 'ragioneria@pec.comune.forli.fc.it'],
      },
    });
  });
});

describe('signatures other than sha1 RSA PKCS#1 v1.5, through parsePec', () => {
  it.each([
    ['RSASSA-PSS sha256', 'rsa', 'sha256', true],
    ['ECDSA sha256', 'ec', 'sha256', false],
  ] as const)('%s is valid', async (_name, keyType, hash, pss) => {
    const signer =
      keyType === 'ec'
        ? createTestProvider(ca, { domain: 'pec.ec.test', keyType: 'ec' })
        : provider;
    const base = certified(
      [['X-Ricevuta', 'accettazione']],
      undefined,
      Buffer.from(daticertXml('accettazione'), 'utf8'),
    );
    const root = parseEntity(base, []);
    const [content, signature] = root.children;
    const p7s = signDetached(
      base.subarray(content!.start, content!.end),
      signer.identity,
      hash,
      DATE,
      { pss },
    );
    const raw = Buffer.concat([
      base.subarray(0, signature!.bodyStart),
      Buffer.from(p7s.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n'),
      base.subarray(signature!.end),
    ]);
    expect(await parsePec(raw, { trustAnchors: anchors })).toMatchObject({
      kind: 'accettazione',
      signature: { status: 'valid', algorithm: hash },
    });
  });
});
