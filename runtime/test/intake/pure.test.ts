/** The pure parts of the intake: batching, UID sets, backoff, delivery state, secrets. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backoffDelay, listWindow, planBatches, uidSet } from '../../src/intake/batches.js';
import {
  affectedRecipients,
  repeatsWarning,
  messageStatus,
  nextStatus,
  recipientAfter,
  statusFor,
} from '../../src/intake/delivery.js';
import { dedupeKeyOf } from '../../src/intake/facts.js';
import { heldAgain, heldLongEnough } from '../../src/intake/withheld.js';
import {
  decryptSecret,
  encryptSecret,
  parseSecretKey,
  SecretKeyError,
} from '../../src/intake/secrets.js';

describe('batches', () => {
  it('bounds batches by count and bytes, a large message alone', () => {
    const pending = [
      { uid: 1, size: 10 },
      { uid: 2, size: 10 },
      { uid: 3, size: 500 },
      { uid: 4, size: 10 },
      { uid: 5, size: 10 },
      { uid: 6, size: 10 },
    ];
    expect(planBatches(pending, 2, 100).map((b) => b.map((m) => m.uid))).toEqual([
      [1, 2],
      [3],
      [4, 5],
      [6],
    ]);
  });

  it('lists a window of UIDs at a time, the last one open-ended', () => {
    expect(listWindow(1, 2000, 10_001)).toEqual({ range: '1:2000', to: 2000 });
    expect(listWindow(8001, 2000, 10_001)).toEqual({ range: '8001:*', to: Infinity });
    expect(listWindow(7001, 2000, 10_001)).toEqual({ range: '7001:9000', to: 9000 });
    // No UIDNEXT from the server, or one already passed: everything from here.
    expect(listWindow(5, 2000, undefined)).toEqual({ range: '5:*', to: Infinity });
    expect(listWindow(50, 2000, 10)).toEqual({ range: '50:*', to: Infinity });
  });

  it('writes compact UID sets', () => {
    expect(uidSet([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
    expect(uidSet([42])).toBe('42');
  });

  it('doubles the reconnect delay up to the cap', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n, 100, 500))).toEqual([
      100, 200, 400, 500, 500,
    ]);
  });
});

describe('delivery state', () => {
  const external = () => ({ external: true, certifiedFailure: false, repeatedWarning: false });

  it('never moves a recipient backwards and keeps a final answer over a late warning', () => {
    expect(nextStatus('submitted', 'accepted')).toBe('accepted');
    expect(nextStatus('delivered', 'accepted')).toBe('delivered');
    expect(nextStatus('timeout', 'delivered')).toBe('delivered');
    expect(nextStatus('failed', 'timeout')).toBe('failed');
  });

  it('summarises recipients: failures first, then timeouts, then the least advanced', () => {
    expect(messageStatus(['delivered', 'delivered'])).toBe('delivered');
    expect(messageStatus(['delivered', 'failed'])).toBe('failed');
    expect(messageStatus(['delivered', 'timeout'])).toBe('timeout');
    expect(messageStatus(['delivered', 'accepted'])).toBe('accepted');
    expect(messageStatus(['accepted', 'submitted'])).toBe('submitted');
  });

  it('fails a recipient at the second timeout warning, not the first', () => {
    const facts = { external: false, certifiedFailure: false, repeatedWarning: false };
    expect(recipientAfter('accepted', 'timeout', facts)).toBe('timeout');
    expect(recipientAfter('timeout', 'timeout', facts)).toBe('failed');
    // The first warning sent again is not the second one.
    expect(recipientAfter('timeout', 'timeout', { ...facts, repeatedWarning: true })).toBe(
      'timeout',
    );
    const twelveHours = '2026-11-02T21:00:00.000Z';
    expect(repeatsWarning(twelveHours, [twelveHours])).toBe(true);
    expect(repeatsWarning('2026-11-03T09:00:00.000Z', [twelveHours])).toBe(false);
    expect(repeatsWarning(null, [twelveHours])).toBe(false);
    expect(repeatsWarning(twelveHours, [null])).toBe(false);
    expect(recipientAfter('timeout', 'delivered', facts)).toBe('delivered');
  });

  it('ends an ordinary-mail recipient at acceptance, and leaves it out of the summary', () => {
    expect(recipientAfter('submitted', 'accepted', external())).toBe('external');
    expect(recipientAfter('external', 'timeout', external())).toBe('external');
    expect(messageStatus(['delivered', 'external'])).toBe('delivered');
    expect(messageStatus(['accepted', 'external'])).toBe('accepted');
    expect(messageStatus(['external', 'external'])).toBe('external');
  });

  it("takes a relay to ordinary mail (REM RelayToNonERDS) as that recipient's acceptance", () => {
    const relayed = {
      type: 'relayed' as const,
      evidence: 'RelayToNonERDS',
      recipients: ['mario.rossi@posta.example.it'],
      external: ['mario.rossi@posta.example.it'],
      at: null,
      reason: null,
    };
    expect(statusFor(relayed, true)).toBe('accepted');
    expect(recipientAfter('submitted', statusFor(relayed, true)!, external())).toBe('external');
    // A relay between certified services moves nobody.
    expect(statusFor({ ...relayed, evidence: 'RelayAcceptance', external: [] }, false)).toBeNull();
  });

  it('lets a receipt overrule a failed submission call, never a certified failure', () => {
    const uncertified = { external: false, certifiedFailure: false, repeatedWarning: false };
    const certified = { external: false, certifiedFailure: true, repeatedWarning: false };
    expect(recipientAfter('failed', 'accepted', uncertified)).toBe('accepted');
    expect(recipientAfter('failed', 'delivered', uncertified)).toBe('delivered');
    expect(recipientAfter('failed', 'accepted', certified)).toBe('failed');
    expect(recipientAfter('failed', 'delivered', certified)).toBe('failed');
  });

  it('applies a receipt to the recipients it names, case-insensitively; one naming none to all, unless it speaks for one recipient', () => {
    const ours = ['a@pec.test', 'B@pec.test'];
    const event = {
      type: 'delivered' as const,
      evidence: 'avvenuta-consegna',
      external: [],
      at: null,
      reason: null,
    };
    expect(affectedRecipients({ ...event, recipients: ['b@PEC.test'] }, ours)).toEqual([
      'B@pec.test',
    ]);
    // A delivery receipt without <consegna>: only a message sent to one can be told apart.
    expect(affectedRecipients({ ...event, recipients: [] }, ours)).toEqual([]);
    expect(affectedRecipients({ ...event, recipients: [] }, ['a@pec.test'])).toEqual([
      'a@pec.test',
    ]);
    const acceptance = { ...event, type: 'accepted' as const, evidence: 'accettazione' };
    expect(affectedRecipients({ ...acceptance, recipients: [] }, ours)).toEqual(ours);
  });
});

describe('a folder held at a message the server does not return', () => {
  const limits = { withheldPasses: 3, withheldMs: 15 * 60_000 };
  const start = new Date('2026-11-28T10:00:00Z');
  const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000);

  it('counts the passes held at one UID from the first, and starts again at another', () => {
    const first = heldAgain(null, 7, start);
    const third = heldAgain(heldAgain(first, 7, at(1)), 7, at(2));
    expect({ first, third, other: heldAgain(third, 9, at(3)) }).toEqual({
      first: { uid: 7, passes: 1, since: start },
      third: { uid: 7, passes: 3, since: start },
      other: { uid: 9, passes: 1, since: at(3) },
    });
  });

  it('goes on without the message only after both the passes and the time, and only for that UID', () => {
    const held = { uid: 7, passes: 3, since: start };
    expect({
      // A burst of new mail makes passes seconds apart: the count alone must not skip it.
      soon: heldLongEnough(limits, held, 7, at(5)),
      fewPasses: heldLongEnough(limits, { ...held, passes: 2 }, 7, at(60)),
      both: heldLongEnough(limits, held, 7, at(15)),
      anotherUid: heldLongEnough(limits, held, 8, at(60)),
      never: heldLongEnough(limits, null, 7, at(60)),
    }).toEqual({ soon: false, fewPasses: false, both: true, anotherUid: false, never: false });
  });
});

describe('dedupe key', () => {
  it('is the provider id when there is one, else the content hash', () => {
    expect(dedupeKeyOf('opec.1@pec.test', 'ab')).toBe('id:opec.1@pec.test');
    expect(dedupeKeyOf(null, 'ab')).toBe('sha256:ab');
  });
});

describe('mailbox secrets', () => {
  const key = randomBytes(32);

  it('round-trips and never stores the plaintext', () => {
    const stored = encryptSecret(key, 'app-password-123');
    expect(stored).not.toContain('app-password-123');
    expect(encryptSecret(key, 'app-password-123')).not.toBe(stored);
    expect(decryptSecret(key, stored)).toBe('app-password-123');
  });

  it('refuses another key and tampered text with a clear error', () => {
    const stored = encryptSecret(key, 'segreto');
    expect(() => decryptSecret(randomBytes(32), stored)).toThrow(SecretKeyError);
    const [v, iv, tag, data] = stored.split(':');
    const tampered = [
      v,
      iv,
      tag,
      Buffer.from('x' + Buffer.from(data!, 'base64').toString('latin1'), 'latin1').toString(
        'base64',
      ),
    ].join(':');
    expect(() => decryptSecret(key, tampered)).toThrow(/PECTRACK_SECRET_KEY/);
  });

  it('parses the configured key as hex or base64 and names the variable when it is wrong', () => {
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(() => parseSecretKey(undefined)).toThrow(/PECTRACK_SECRET_KEY is not set/);
    expect(() => parseSecretKey('c2hvcnQ=')).toThrow(/PECTRACK_SECRET_KEY must be 32 bytes/);
  });
});
