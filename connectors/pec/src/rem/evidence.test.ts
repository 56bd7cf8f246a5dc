import { describe, expect, it } from 'vitest';
import { parseRemEvidence } from './evidence.js';

const NAMESPACE = 'http://uri.etsi.org/19522/v1#';

function evidence(type: string, prolog = '<?xml version="1.0" encoding="UTF-8"?>\n'): Buffer {
  return Buffer.from(
    `${prolog}<ev:${type} xmlns:ev="${NAMESPACE}">` +
      '<ev:EventTime>2026-11-26T09:15:30Z</ev:EventTime>' +
      '<ev:RecipientDetails><ev:ElectronicAddress>mailto:b@rem.test</ev:ElectronicAddress></ev:RecipientDetails>' +
      '<ev:UAMessageIdentifier>&lt;m@client.test&gt;</ev:UAMessageIdentifier>' +
      `</ev:${type}>`,
  );
}

/** A ContentConsignment naming `addresses` (XML text, escaped as written) as its recipients. */
function consignedTo(...addresses: string[]): Buffer {
  return Buffer.from(
    `<ev:ContentConsignment xmlns:ev="${NAMESPACE}"><ev:RecipientDetails>` +
      addresses.map((a) => `<ev:ElectronicAddress>${a}</ev:ElectronicAddress>`).join('') +
      '</ev:RecipientDetails></ev:ContentConsignment>',
  );
}

/** A ContentConsignment whose EventTime element is `eventTime` as written; none when null. */
function consignedAt(eventTime: string | null): Buffer {
  return Buffer.from(
    `<ev:ContentConsignment xmlns:ev="${NAMESPACE}">` +
      (eventTime === null ? '' : `<ev:EventTime>${eventTime}</ev:EventTime>`) +
      '<ev:RecipientDetails><ev:ElectronicAddress>b@rem.test</ev:ElectronicAddress></ev:RecipientDetails>' +
      '</ev:ContentConsignment>',
  );
}

function read(bytes: Buffer) {
  const problems: string[] = [];
  return { evidence: parseRemEvidence(bytes, problems), problems };
}

describe('parseRemEvidence', () => {
  it.each([
    ['NotificationForAcceptance', 'relayed'],
    ['NotificationForAcceptanceFailure', 'failed'],
    ['AcceptanceByRecipient', 'delivered'],
    ['RejectionByRecipient', 'failed'],
    ['AcceptanceRejectionExpiry', 'failed'],
    ['ConsignmentNotificationFailure', 'failed'],
    ['RelayToNonERDS', 'relayed'],
    ['RelayToNonERDSFailure', 'failed'],
    ['ReceivedFromNonERDS', 'anomaly'],
  ])('maps %s to event type %s', (type, event) => {
    expect(read(evidence(type))).toEqual({
      evidence: {
        type,
        event: {
          type: event,
          evidence: type,
          recipients: ['b@rem.test'],
          // A gateway to ordinary mail: that recipient gets no certified delivery.
          external: type === 'RelayToNonERDS' ? ['b@rem.test'] : [],
          at: '2026-11-26T09:15:30.000Z',
          reason: null,
        },
        uaMessageIdentifier: '<m@client.test>',
      },
      problems: [],
    });
  });

  it('reads the type from the EventCode URI of an envelope-style <Evidence>', () => {
    const xml = Buffer.from(
      `<Evidence xmlns="${NAMESPACE}"><EventCode>http://uri.etsi.org/19522/Event/RelayToNonERDSFailure</EventCode>` +
        '<EventReasons><EventReason><Code>R1</Code><Details>gateway refused</Details></EventReason></EventReasons></Evidence>',
    );
    expect(read(xml).evidence?.event).toMatchObject({
      type: 'failed',
      evidence: 'RelayToNonERDSFailure',
      reason: 'R1 - gateway refused',
    });
  });

  it('reads evidence whose DOCTYPE only names an external DTD, and refuses an internal subset', () => {
    const external = read(
      evidence('ContentConsignment', '<!DOCTYPE ev:ContentConsignment SYSTEM "erds.dtd">\n'),
    );
    expect(external.problems).toEqual([]);
    expect(external.evidence?.event?.type).toBe('delivered');
    expect(read(evidence('ContentConsignment', '<!DOCTYPE x [<!ENTITY e "boom">]>\n'))).toEqual({
      evidence: null,
      problems: ['REM evidence declares a DOCTYPE or ENTITY: refused'],
    });
  });

  it('reads the address of a recipient written with a display name, lower-cased', () => {
    const { evidence, problems } = read(
      consignedTo(
        'Ufficio Tecnico &lt;Ufficio.Tecnico@Regione.REM.test&gt;',
        '<![CDATA["Rossi, Mario" <mailto:M.Rossi@rem.test>]]>',
        '&lt;ragioneria@rem.test&gt;',
        'mailto:Protocollo@REM.test',
      ),
    );
    expect(problems).toEqual([]);
    expect(evidence?.event?.recipients).toEqual([
      'ufficio.tecnico@regione.rem.test',
      'm.rossi@rem.test',
      'ragioneria@rem.test',
      'protocollo@rem.test',
    ]);
  });

  it('reports an ElectronicAddress it cannot read, naming it, and keeps the others', () => {
    const { evidence, problems } = read(
      consignedTo('Ufficio Tecnico', 'b@rem.test', 'Ragioneria &lt;r@rem.test'),
    );
    expect(evidence?.event).toMatchObject({ type: 'delivered', recipients: ['b@rem.test'] });
    expect(problems).toEqual([
      'REM evidence <ev:ElectronicAddress> "Ufficio Tecnico" is not an e-mail address: left out',
      'REM evidence <ev:ElectronicAddress> "Ragioneria <r@rem.test" is not an e-mail address: left out',
    ]);
  });

  it.each([
    ['2026-11-26T09:15:30Z', '2026-11-26T09:15:30.000Z'],
    ['2026-11-26T10:15:30+01:00', '2026-11-26T09:15:30.000Z'],
    ['2026-11-25T23:45:30-09:30', '2026-11-26T09:15:30.000Z'],
    ['2026-11-26T09:15:30.1239Z', '2026-11-26T09:15:30.123Z'],
    ['2028-02-29T00:00:00+14:00', '2028-02-28T10:00:00.000Z'],
    [' 2026-11-26T09:15:30Z\n', '2026-11-26T09:15:30.000Z'],
  ])('reads EventTime %j as the instant %s', (written, at) => {
    expect(read(consignedAt(written))).toMatchObject({ evidence: { event: { at } }, problems: [] });
  });

  it.each([
    '1',
    '26/11/2026 10:15:30',
    '2026-11-26',
    '2026-11-26T09:15:30',
    '2026-11-26 09:15:30Z',
    '2026-11-26T09:15Z',
    '2026-11-26T09:15:30z',
    '2026-11-26T09:15:30+0100',
    '2026-02-29T09:15:30Z',
    '2026-13-01T09:15:30Z',
    '2026-11-31T09:15:30Z',
    '2026-11-26T24:00:00Z',
    '2026-11-26T09:60:30Z',
    '2026-11-26T09:15:60Z',
    '2026-11-26T09:15:30+14:30',
    '2026-11-26T09:15:30+01:60',
    'Thu, 26 Nov 2026 09:15:30 GMT',
    '',
  ])('gives no time for EventTime %j and names it in problems', (written) => {
    const { evidence, problems } = read(consignedAt(written));
    expect(evidence?.event).toMatchObject({ type: 'delivered', at: null });
    expect(problems).toEqual([
      `REM evidence <EventTime> "${written}" is not an xs:dateTime with a time zone (YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)): no certified time`,
    ]);
  });

  it('says nothing of an EventTime that is not there: the element is optional', () => {
    expect(read(consignedAt(null))).toMatchObject({
      evidence: { event: { type: 'delivered', at: null } },
      problems: [],
    });
  });

  it('reports evidence in another namespace, or in none, and still reads it', () => {
    const elsewhere = read(
      Buffer.from(
        '<x:ContentConsignment xmlns:x="urn:example:not-erds" xmlns:ev="' +
          NAMESPACE +
          '"><x:RecipientDetails><x:ElectronicAddress>b@rem.test</x:ElectronicAddress></x:RecipientDetails></x:ContentConsignment>',
      ),
    );
    expect(elsewhere.evidence?.event).toMatchObject({
      type: 'delivered',
      recipients: ['b@rem.test'],
    });
    expect(elsewhere.problems).toEqual([
      `REM evidence <x:ContentConsignment> is in namespace "urn:example:not-erds", not the ERDS namespace ${NAMESPACE}: read as ERDS all the same`,
    ]);
    const nowhere = read(
      Buffer.from(
        '<ContentConsignment><RecipientDetails><ElectronicAddress>b@rem.test</ElectronicAddress></RecipientDetails></ContentConsignment>',
      ),
    );
    expect(nowhere.evidence?.event).toMatchObject({
      type: 'delivered',
      recipients: ['b@rem.test'],
    });
    expect(nowhere.problems).toEqual([
      `REM evidence <ContentConsignment> is in no namespace, not the ERDS namespace ${NAMESPACE}: read as ERDS all the same`,
    ]);
  });

  it('takes ERDS as the default namespace, unprefixed, without a problem', () => {
    const xml = Buffer.from(
      `<ContentConsignment xmlns="${NAMESPACE}"><RecipientDetails><ElectronicAddress>b@rem.test</ElectronicAddress></RecipientDetails></ContentConsignment>`,
    );
    expect(read(xml)).toMatchObject({ evidence: { type: 'ContentConsignment' }, problems: [] });
  });

  it('reads a RecipientDetails nested thousands deep without overflowing: the address near the top counts, the rest is named', () => {
    const depth = 20_000;
    const xml = Buffer.from(
      `<ev:ContentConsignment xmlns:ev="${NAMESPACE}"><ev:RecipientDetails>` +
        '<ev:ElectronicAddress>b@rem.test</ev:ElectronicAddress>' +
        '<ev:Recipient>'.repeat(depth) +
        '<ev:ElectronicAddress>c@rem.test</ev:ElectronicAddress>' +
        '</ev:Recipient>'.repeat(depth) +
        '</ev:RecipientDetails></ev:ContentConsignment>',
    );
    expect(read(xml)).toMatchObject({
      evidence: { event: { type: 'delivered', recipients: ['b@rem.test'] } },
      problems: [
        'REM evidence <RecipientDetails> is nested deeper than 16 levels: what is below is not read',
      ],
    });
  });
});
