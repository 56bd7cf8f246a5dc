/**
 * A crafted PEC whose signature ships two CA certificates that issue each other (see
 * support/certificate-loop.ts): PKI.js builds paths recursively with no visited set, so its
 * chain check ran for ever, its worker growing towards the heap limit, and the mailbox waited
 * for good. It is read like any message no anchor vouches for, and the sync goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParsePool } from '@pectrack/connector-pec';
import {
  buildTransportEnvelope,
  prepareSubmission,
  type TestProvider,
} from '@pectrack/connector-pec/testkit';
import { runMailboxSession } from '../../src/intake/index.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';
import { loopProvider } from './support/certificate-loop.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

function envelopeFrom(provider: TestProvider, to: string): Buffer {
  const submission = prepareSubmission({
    provider,
    message: {
      from: 'mittente@altro.pec.test',
      to: [to],
      subject: 'Istanza',
      text: 'Si chiede il rilascio del documento.\r\n',
      date: new Date(Date.UTC(2026, 10, 2, 9, 0, 0)),
      attachments: [],
    },
  });
  return buildTransportEnvelope({ provider, submission });
}

/** What `pending` came to within `ms`, or 'still pending'. */
async function within<T>(pending: Promise<T>, ms: number): Promise<T | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pending,
      new Promise<'still pending'>(
        (resolve) => (timer = setTimeout(() => resolve('still pending'), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a signature whose CA certificates issue each other', () => {
  it('the pool settles its parse, and parses the good message queued behind it', async () => {
    const pool = new ParsePool({
      size: 1,
      trustAnchors: [fixtures.ca.certificatePem],
      inner: 'outline',
    });
    try {
      const poison = pool.parse(envelopeFrom(loopProvider(), 'protocollo@comune.pec.test'));
      const good = pool.parse(fixtures.envelope(1, ['protocollo@comune.pec.test']).raw);
      // 10 s: ten times the bound on any parse, on a loaded 2-core machine.
      const poisonOutcome = await within(
        poison.then(
          (e) => `${e.kind}, ${e.signature.status}: ${e.signature.reason}`,
          (error: Error) => `rejected: ${error.message}`,
        ),
        10_000,
      );
      const goodOutcome = await within(
        good.then((e) => e.kind),
        2_000,
      );
      // Read like any message whose signer no anchor knows, saying why.
      expect({ poison: poisonOutcome, good: goodOutcome }).toEqual({
        poison:
          'posta-certificata, intact-untrusted: certificate chain: no path found within 64 issuer lookups (certificates that issue one another?)',
        good: 'posta-certificata',
      });
    } finally {
      await pool.close();
    }
  }, 30_000);
});

describe.skipIf(Boolean(dovecotMissing))('the poison message in a mailbox', () => {
  let h: IntakeHarness;
  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000, batchMessages: 4 });
  }, 120_000);
  afterAll(async () => h?.close(), 120_000);

  it('is stored, and the messages around it are processed: the sync goes on', async () => {
    const address = 'veleno@comune.pec.test';
    const mailboxId = await h.addMailbox(address);
    const good = Array.from({ length: 9 }, (_, n) => fixtures.envelope(n, [address]).raw);
    const raws = [...good.slice(0, 4), envelopeFrom(loopProvider(), address), ...good.slice(4)];
    await h.append(address, raws);

    const session = runMailboxSession(h.ctx, TENANT, mailboxId, { once: true }).then(
      (summary) => `finished, ${summary.fetched} fetched`,
      (error: Error) => `failed: ${error.message}`,
    );
    const outcome = await within(session, 30_000);
    const rows = (await knexOf(h.runtime.orm)('message')
      .where({ mailbox_id: mailboxId })
      .orderBy('uid')
      .select('uid', 'kind')) as { uid: number; kind: string }[];
    expect({
      session: outcome,
      uids: rows.map((r) => r.uid),
      goodOnes: rows.filter((r) => r.uid !== 5 && r.kind === 'posta-certificata').length,
    }).toEqual({
      session: 'finished, 10 fetched',
      uids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      goodOnes: 9,
    });
  }, 90_000);
});
