/** Certified messages for the intake suites, built and signed by the testkit's provider. */
import {
  buildTransportEnvelope,
  createTestCa,
  createTestProvider,
  prepareSubmission,
  type TestCa,
  type TestProvider,
} from '@pectrack/connector-pec/testkit';

export interface PecFixtures {
  ca: TestCa;
  provider: TestProvider;
  /** The n-th transport envelope addressed to `to`, and its provider id. */
  envelope(n: number, to: string[], attachment?: Buffer): { raw: Buffer; providerId: string };
}

export function pecFixtures(): PecFixtures {
  const ca = createTestCa();
  const provider = createTestProvider(ca, { domain: 'pec.test' });
  const base = Date.UTC(2026, 10, 2, 9, 0, 0);
  return {
    ca,
    provider,
    envelope(n, to, attachment) {
      const submission = prepareSubmission({
        provider,
        message: {
          from: `cittadino${n}@mittente.pec.test`,
          to,
          subject: `Istanza numero ${n}`,
          text: `Si chiede cortesemente il rilascio del documento ${n}.\r\n`,
          date: new Date(base + n * 1000),
          attachments: attachment
            ? [
                {
                  filename: `allegato-${n}.pdf`,
                  contentType: 'application/pdf',
                  content: attachment,
                },
              ]
            : [],
        },
      });
      return {
        raw: buildTransportEnvelope({ provider, submission }),
        providerId: submission.identificativo,
      };
    },
  };
}
