/**
 * REM (ETSI EN 319 532) at intake: a REM dispatch — a REM message carrying the sender's original
 * message, with evidence such as SubmissionAcceptance — is certified mail addressed to us and
 * opens a case like a PEC transport envelope; REM evidence about a message we sent is that
 * message's receipt and opens none. Both databases; the receipt with Dovecot and the testkit's
 * SMTP front (the message is sent as PEC, its evidence comes back as REM).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildRemMessage,
  prepareSubmission,
  type Submission,
} from '@pectrack/connector-pec/testkit';
import { messageQueries } from '../../src/intake/messages.js';
import { reparseServices } from '../../src/intake/reparse.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import {
  OFFICE,
  readBy,
  startSetting,
  store,
  type Recorder,
  type Setting,
} from './support/recording.js';
import { RECIPIENT, SENDER, startSending, type SendingHarness } from './support/sending.js';
import { dovecotMissing, TENANT } from './support/services.js';

const fixtures = pecFixtures();

/** What a citizen's REM provider submitted on their behalf, addressed to the office. */
function citizenSubmission(n: number): Submission {
  return prepareSubmission({
    provider: fixtures.provider,
    message: {
      from: `cittadino${n}@mittente.pec.test`,
      to: [OFFICE],
      subject: `Istanza REM ${n}`,
      text: `Si chiede il rilascio del certificato ${n}.\r\n`,
      date: new Date(Date.UTC(2026, 10, 3, 9, 0, n)),
    },
  });
}

/** The intake entry of one message, if it opened a case. */
const entryOf = (s: Recorder, id: string) =>
  knexOf(s.runtime.orm)('outbox')
    .where({ kind: 'intake' })
    .select('payload')
    .then((rows: { payload: string | { messageId: string } }[]) =>
      rows
        .map((row) => (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload))
        .filter((payload: { messageId: string }) => payload.messageId === id),
    );

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`REM at intake on ${database.kind}`, () => {
    let s: Setting;
    beforeAll(async () => {
      s = await startSetting(database, fixtures);
    });
    afterAll(() => s?.close());

    it('a REM dispatch with its submission evidence opens a case', async () => {
      const raw = buildRemMessage({
        provider: fixtures.provider,
        submission: citizenSubmission(1),
        evidence: 'SubmissionAcceptance',
        includeOriginal: true,
      });
      const id = await store(s, raw, readBy(s.withAnchors, raw));
      const detail = await messageQueries(s.withAnchors).get(TENANT, id);
      expect(detail).toMatchObject({
        kind: 'SubmissionAcceptance',
        sender: 'cittadino1@mittente.pec.test',
        subject: 'Istanza REM 1',
        signatureStatus: 'valid',
      });
      expect(await entryOf(s, id)).toEqual([
        expect.objectContaining({ messageId: id, providerId: detail.providerId }),
      ]);
    });

    it('a REM message with an evidence it does not know, carrying the original, opens a case too', async () => {
      const raw = buildRemMessage({
        provider: fixtures.provider,
        submission: citizenSubmission(2),
        evidence: 'RegisteredLetterNotice',
        includeOriginal: true,
      });
      const id = await store(s, raw, readBy(s.withAnchors, raw));
      expect((await messageQueries(s.withAnchors).get(TENANT, id)).kind).toBe('rem-message');
      expect(await entryOf(s, id)).toHaveLength(1);
    });

    it('REM evidence without an original message opens none', async () => {
      const raw = buildRemMessage({
        provider: fixtures.provider,
        submission: citizenSubmission(3),
        evidence: 'ContentConsignment',
      });
      const id = await store(s, raw, readBy(s.withAnchors, raw));
      expect(await entryOf(s, id)).toEqual([]);
    });

    it('a dispatch stored before REM dispatches opened cases gets its case when read again', async () => {
      const raw = buildRemMessage({
        provider: fixtures.provider,
        submission: citizenSubmission(4),
        evidence: 'SubmissionAcceptance',
        includeOriginal: true,
      });
      // As the intake stored it before: the same reading, no case.
      const id = await store(s, raw, async (sha256) => {
        const read = await readBy(s.withAnchors, raw)(sha256);
        return { ...read, facts: { ...read.facts, remDispatch: false } };
      });
      expect(await entryOf(s, id)).toEqual([]);
      expect(await reparseServices(s.withAnchors).one(TENANT, id)).toMatchObject({
        changed: false,
        caseOpened: true,
      });
      expect(await entryOf(s, id)).toHaveLength(1);
      expect(await reparseServices(s.withAnchors).one(TENANT, id)).toMatchObject({
        caseOpened: false,
      });
      expect(await entryOf(s, id)).toHaveLength(1);
    });
  });
}

const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('REM evidence about a message we sent', () => {
  let sending: SendingHarness;
  beforeAll(async () => {
    sending = await startSending(sqlite, fixtures);
  });
  afterAll(() => sending?.close());

  it('moves it as its receipt and opens no case, though it carries our original', async () => {
    const { h, outgoing, senderId } = sending;
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT],
      subject: 'Comunicazione di avvio del procedimento',
      text: 'Si comunica l’avvio del procedimento.',
    });
    // The recipient's provider answers in REM: consignment evidence with the original attached.
    const ours = prepareSubmission({
      provider: fixtures.provider,
      message: {
        from: SENDER,
        to: [RECIPIENT],
        subject: 'Comunicazione di avvio del procedimento',
        text: 'Si comunica l’avvio del procedimento.',
      },
    });
    const raw = buildRemMessage({
      provider: fixtures.provider,
      submission: { ...ours, clientMessageId: sent.messageId },
      evidence: 'ContentConsignment',
      includeOriginal: true,
    });
    const recorder = { runtime: h.runtime, withAnchors: h.ctx, mailboxId: senderId };
    const id = await store(recorder, raw, readBy(h.ctx, raw));
    const detail = await messageQueries(h.ctx).get(TENANT, sent.id);
    expect(detail.deliveryStatus).toBe('delivered');
    expect(detail.history.filter((step) => step.receiptMessageId === id)).toEqual([
      expect.objectContaining({ event: 'ContentConsignment', recipient: RECIPIENT }),
    ]);
    expect(await entryOf(recorder, id)).toEqual([]);
  });
});
