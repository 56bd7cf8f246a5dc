import { beforeAll, describe, expect, it } from 'vitest';
import { parsePec } from '../src/index.js';
import {
  buildCertifiedMessage,
  ERDS_NAMESPACE,
  providerAddress,
  type Submission,
} from '../src/testkit/index.js';
import { submit, testWorld } from './fixtures.js';

/*
 * REM (ETSI EN 319 532) messages whose evidence is not the one buildRemMessage writes: an EventTime
 * that is no xs:dateTime, another namespace, two evidence sections, thousands of namespace
 * prefixes. Signed by the testkit's provider as buildRemMessage lays them out; the evidence is
 * written here.
 */

let world: ReturnType<typeof testWorld>;
beforeAll(() => {
  world = testWorld();
});

const parse = (raw: Buffer) => parsePec(raw, { trustAnchors: world.anchors });

/** One `REM-Section-Type: rem_message/evidence` section holding `xml`, base64 as the testkit writes it. */
function evidenceSection(xml: string): Buffer {
  const base64 = (
    Buffer.from(xml, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
  return Buffer.from(
    [
      'Content-Type: application/xml; name="evidence.xml"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: inline; filename="evidence.xml"',
      'REM-Section-Type: rem_message/evidence',
      '',
      base64,
      '',
    ].join('\r\n'),
    'utf8',
  );
}

/** A REM message signed by the sender's provider carrying these evidence documents, as buildRemMessage lays it out. */
function remMessage(submission: Submission, ...xmls: string[]): Buffer {
  return buildCertifiedMessage({
    provider: world.sender,
    date: submission.date,
    headers: [
      ['Message-ID', `<rem.evidence@${world.sender.domain}>`],
      ['REM-UAMessageIdentifier', submission.clientMessageId],
      ['From', providerAddress(world.sender)],
      ['To', submission.sender],
      ['Subject', `REM: ${submission.subject}`],
    ],
    notice: 'Registered Electronic Mail',
    extraParts: xmls.map(evidenceSection),
  });
}

/** An evidence document as buildRemMessage writes it; `body` is added after the usual children. */
function evidenceXml(
  type: string,
  options: { namespace?: string; eventTime?: string; recipient?: string; body?: string } = {},
): string {
  const recipient = options.recipient ?? 'protocollo@pec.comune.test';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ev:${type} xmlns:ev="${options.namespace ?? ERDS_NAMESPACE}">`,
    '  <ev:EvidenceIdentifier>evidence-1</ev:EvidenceIdentifier>',
    `  <ev:EventTime>${options.eventTime ?? '2026-11-26T09:15:30Z'}</ev:EventTime>`,
    `  <ev:RecipientDetails><ev:ElectronicAddress>mailto:${recipient}</ev:ElectronicAddress></ev:RecipientDetails>`,
    '  <ev:UAMessageIdentifier>&lt;client-1234@mail.mittente.test&gt;</ev:UAMessageIdentifier>',
    options.body ?? '',
    `</ev:${type}>`,
    '',
  ].join('\r\n');
}

describe('REM evidence parse time', () => {
  it('an evidence document well under the 1 MB limit, with many prefixed elements, parses in under 1 s', async () => {
    // 25 000 empty elements, each under its own namespace prefix (`<a0:EventTime/>`, `<a1:…>`):
    // about 420 KB, well-formed, under MAX_DOCUMENT_BYTES.
    let filler = '';
    for (let i = 0; i < 25_000; i += 1) filler += `<a${i.toString(36)}:EventTime/>`;
    const xml = evidenceXml('ContentConsignment', { body: filler });
    expect(Buffer.byteLength(xml)).toBeLessThan(1024 * 1024);
    const raw = remMessage(submit(world.sender), xml);
    const started = performance.now();
    const envelope = await parse(raw);
    const elapsed = performance.now() - started;
    expect(envelope.profile).toBe('REM');
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('REM evidence content', () => {
  it('an EventTime that is no xs:dateTime gives no certified time and a problem line, as a malformed daticert <data> does', async () => {
    const raw = remMessage(
      submit(world.sender),
      evidenceXml('ContentConsignment', { eventTime: '1' }),
    );
    const envelope = await parse(raw);
    expect(envelope.event?.type).toBe('delivered');
    // `new Date('1')` is 1 January 2001: a certified delivery time nobody certified.
    expect(envelope.event?.at).toBeNull();
    expect(envelope.problems).toContain(
      'REM evidence <EventTime> "1" is not an xs:dateTime with a time zone (YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)): no certified time',
    );
  });

  it('an unreadable EventTime is named in problems, not silently dropped', async () => {
    const raw = remMessage(
      submit(world.sender),
      evidenceXml('ContentConsignment', { eventTime: '26/11/2026 10:15:30' }),
    );
    const envelope = await parse(raw);
    expect(envelope.event?.at).toBeNull();
    expect(envelope.problems.some((line) => /EventTime.*26\/11\/2026 10:15:30/.test(line))).toBe(
      true,
    );
  });

  it('evidence in a namespace other than ERDS (EN 319 522) is reported in problems, and still read', async () => {
    const raw = remMessage(
      submit(world.sender),
      evidenceXml('ContentConsignment', { namespace: 'urn:example:not-erds' }),
    );
    const envelope = await parse(raw);
    expect(envelope.event).toMatchObject({
      type: 'delivered',
      recipients: ['protocollo@pec.comune.test'],
    });
    expect(envelope.problems).toContain(
      `REM evidence <ev:ContentConsignment> is in namespace "urn:example:not-erds", not the ERDS namespace ${ERDS_NAMESPACE}: read as ERDS all the same`,
    );
  });

  it('a REM message with two evidence sections says that only the first one is read, as PEC does for two daticert.xml', async () => {
    const raw = remMessage(
      submit(world.sender),
      evidenceXml('ContentConsignment', { recipient: 'protocollo@pec.comune.test' }),
      evidenceXml('ContentConsignmentFailure', { recipient: 'ragioneria@pec.comune.test' }),
    );
    const envelope = await parse(raw);
    expect(envelope.event).toMatchObject({
      type: 'delivered',
      recipients: ['protocollo@pec.comune.test'],
    });
    expect(envelope.problems).toContain('2 REM evidence sections: the first one is used');
  });
});
