/**
 * docs/pec.md, "Rules that follow":
 *   "One delivery receipt arrives per delivered recipient (`<consegna>` names it);
 *    non-PEC recipients (`esterno`) never produce one."
 * A submission to an ordinary address plus a PEC address: a delivery receipt built without an
 * explicit recipient must not name the `esterno` one, and one for the `esterno` one must not exist.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildAvvenutaConsegna,
  prepareSubmission,
  type Submission,
  type TestProvider,
} from '../index.js';
import { DATE, daticertOf, world } from './support.test-support.js';

let providers: { sender: TestProvider; receiver: TestProvider };
let submission: Submission;
beforeAll(() => {
  providers = world();
  submission = prepareSubmission({
    provider: providers.sender,
    date: DATE,
    message: {
      from: 'mario.rossi@pec.mittente.test',
      to: ['mario.rossi@gmail.test', 'protocollo@pec.comune.test'],
      subject: 'Comunicazione',
      text: 'Testo',
      messageId: '<client-2@mail.mittente.test>',
    },
    recipients: [
      { address: 'mario.rossi@gmail.test', tipo: 'esterno' },
      { address: 'protocollo@pec.comune.test', tipo: 'certificato' },
    ],
  });
});

describe('delivery receipts and esterno recipients', () => {
  it('a delivery receipt with no explicit recipient names a certified recipient in <consegna>', () => {
    // docs/pec.md: "non-PEC recipients (`esterno`) never produce one."
    const xml = daticertOf(buildAvvenutaConsegna({ provider: providers.receiver, submission }))!;
    expect(xml).not.toContain('<consegna>mario.rossi@gmail.test</consegna>');
    expect(xml).toContain('<consegna>protocollo@pec.comune.test</consegna>');
  });

  it('refuses to build a delivery receipt for an esterno recipient', () => {
    // docs/pec.md: "non-PEC recipients (`esterno`) never produce one."
    expect(() =>
      buildAvvenutaConsegna({
        provider: providers.receiver,
        submission,
        recipient: 'mario.rossi@gmail.test',
      }),
    ).toThrow();
  });
});
