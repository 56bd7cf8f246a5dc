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
});
