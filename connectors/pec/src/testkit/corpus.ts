import type { TestCa } from './ca.js';
import { buildAnomalyEnvelope, buildTransportEnvelope } from './envelope.js';
import type { TestAttachment } from './original.js';
import { createTestProvider, type TestProvider } from './provider.js';
import { buildReceipt, type ReceiptKind } from './receipts.js';
import { buildRemMessage } from './rem.js';
import { pick, seededRandom } from './random.js';
import { prepareSubmission, type Submission } from './submission.js';
import { forwardMessage, wrapForMailingList } from './wrappers.js';

export interface CorpusOptions {
  ca: TestCa;
  count: number;
  seed?: number;
  /** Attachment sizes drawn from; default a mix from none to 1 MB. */
  attachmentSizes?: readonly number[];
}

export interface CorpusMessage {
  label: string;
  raw: Buffer;
}

const DEFAULT_SIZES = [0, 0, 0, 2_000, 20_000, 20_000, 100_000, 300_000, 1_000_000];
const RECEIPTS: readonly ReceiptKind[] = [
  'accettazione',
  'accettazione',
  'avvenuta-consegna',
  'avvenuta-consegna',
  'avvenuta-consegna',
  'non-accettazione',
  'presa-in-carico',
  'errore-consegna',
  'preavviso-errore-consegna',
  'rilevazione-virus',
];

/**
 * A repeatable mixed corpus of what a PEC mailbox holds: transport envelopes with attachments of
 * several sizes, every receipt kind (completa/breve/sintetica), anomalies, REM evidence, forwards
 * and mailing-list copies, signed sha1 and sha256 by two providers.
 */
export function buildCorpus(options: CorpusOptions): CorpusMessage[] {
  const random = seededRandom(options.seed ?? 1);
  const providers: TestProvider[] = [
    createTestProvider(options.ca, { domain: 'pec.gestore-uno.test', name: 'Gestore Uno S.p.A.' }),
    createTestProvider(options.ca, {
      domain: 'pec.gestore-due.test',
      name: 'Gestore Due S.r.l.',
      hash: 'sha256',
    }),
  ];
  const sizes = options.attachmentSizes ?? DEFAULT_SIZES;
  const corpus: CorpusMessage[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const provider = pick(random, providers);
    const submission = randomSubmission(random, provider, index, sizes);
    corpus.push(randomMessage(random, provider, submission, index));
  }
  return corpus;
}

function randomSubmission(
  random: () => number,
  provider: TestProvider,
  index: number,
  sizes: readonly number[],
): Submission {
  const size = pick(random, sizes);
  const attachments: TestAttachment[] =
    size === 0
      ? []
      : [
          {
            filename: `allegato-${index}.pdf`,
            contentType: 'application/pdf',
            content: filler(random, size),
          },
        ];
  return prepareSubmission({
    provider,
    date: new Date(Date.UTC(2026, 0, 1) + index * 97_000),
    message: {
      from: `mittente${index % 50}@${provider.domain}`,
      to: [`protocollo@comune${index % 7}.pec.test`],
      ...(random() < 0.2 ? { cc: [`ufficio@comune${index % 7}.pec.test`] } : {}),
      subject: `Istanza n. ${index} - richiesta di accesso agli atti`,
      text: `Buongiorno,\ncon la presente si chiede copia della pratica ${index}.\nCordiali saluti`.repeat(
        1 + Math.floor(random() * 4),
      ),
      attachments,
      receiptType: random() < 0.15 ? 'breve' : random() < 0.1 ? 'sintetica' : 'completa',
    },
  });
}

function randomMessage(
  random: () => number,
  provider: TestProvider,
  submission: Submission,
  index: number,
): CorpusMessage {
  const roll = random();
  if (roll < 0.4)
    return {
      label: 'posta-certificata',
      raw: buildTransportEnvelope({ provider, submission, daticertFirst: random() < 0.3 }),
    };
  if (roll < 0.85) {
    const kind = pick(random, RECEIPTS);
    return {
      label: kind,
      raw: buildReceipt({ provider, submission, kind, virus: random() < 0.1 }),
    };
  }
  if (roll < 0.9)
    return {
      label: 'anomalia',
      raw: buildAnomalyEnvelope({ provider, message: submission.original, date: submission.date }),
    };
  if (roll < 0.94) {
    const evidence = pick(random, [
      'SubmissionAcceptance',
      'RelayAcceptance',
      'ContentConsignment',
      'ContentConsignmentFailure',
    ]);
    return {
      label: `rem:${evidence}`,
      raw: buildRemMessage({
        provider,
        submission,
        evidence,
        includeOriginal: evidence === 'ContentConsignment',
      }),
    };
  }
  const envelope = buildTransportEnvelope({ provider, submission });
  if (roll < 0.97)
    return {
      label: 'mailing-list',
      raw: wrapForMailingList(envelope, {
        listId: '<protocollo.comune.test>',
        listAddress: 'protocollo@liste.comune.test',
      }),
    };
  const forward = prepareSubmission({
    provider,
    date: submission.date,
    message: forwardMessage(envelope, {
      from: `inoltro${index}@${provider.domain}`,
      to: ['archivio@comune.pec.test'],
      date: submission.date,
    }),
  });
  return { label: 'forward', raw: buildTransportEnvelope({ provider, submission: forward }) };
}

/** Attachment content matters only by its size: a seeded 64 KB block, tiled, stamped with a varying head. */
function filler(random: () => number, size: number): Buffer {
  const block = Buffer.allocUnsafe(Math.min(size, 65_536));
  let word = Math.floor(random() * 0xffffffff);
  for (let at = 0; at < block.length; at += 1) {
    word = (Math.imul(word, 1103515245) + 12345) >>> 0;
    block[at] = word >>> 24;
  }
  return Buffer.alloc(size, block);
}
