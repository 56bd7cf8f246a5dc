/**
 * A mailbox's sending pace (smtp.maxPerMinute): at most that many submission slots in any 60
 * seconds, counted on the mailbox row, on a clock the test moves; and a send past the pace is
 * refused before anything is recorded.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { IntakeContext } from '../../src/intake/index.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { outgoingServices } from '../../src/intake/outgoing.js';
import { askAgainAfterMs, takeSendingSlot } from '../../src/intake/pacing.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { useRuntime } from '../support/runtime.js';
import { useIntakeContext } from './support/context.js';

const TENANT = 'default';
const SECOND = 1_000;

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`sending pace on ${database.kind}`, () => {
    const runtime = useRuntime(database);
    let clock = Date.UTC(2026, 10, 27, 9, 0, 0);
    const intake = useIntakeContext(runtime, { now: () => new Date(clock) });
    let ctx: IntakeContext;

    beforeAll(() => {
      ctx = intake();
    });

    const mailbox = async (address: string, maxPerMinute: number | null) =>
      (
        await mailboxServices(ctx).create(TENANT, {
          name: address,
          address,
          imap: { host: '127.0.0.1', port: 1, tls: false, allowPlaintext: true },
          username: address,
          password: 'segreto',
          enabled: false,
          // Port 1: nothing would take a submission that got past the pace.
          smtp: { host: '127.0.0.1', port: 1, tls: false, allowPlaintext: true, maxPerMinute },
        })
      ).id;

    it('gives at most maxPerMinute slots in any minute, and says when the next one frees', async () => {
      const id = await mailbox('tributi@comune.pec.test', 3);
      const slot = () => takeSendingSlot(ctx, TENANT, id);
      expect([await slot(), await slot()]).toEqual([0, 0]);
      clock += 20 * SECOND;
      expect(await slot()).toBe(0);
      expect(await slot()).toBe(40 * SECOND); // the first two leave the window at +60 s
      clock += 40 * SECOND;
      expect(await slot()).toBe(0);
      expect(await slot()).toBe(0);
      // Now the slots of +20, +60 and +60 s are in the window: the next frees at +80 s.
      expect(await slot()).toBe(20 * SECOND);
      clock += 20 * SECOND;
      expect(await slot()).toBe(0);
    });

    it('grants no more slots than the pace to sends asking at the same moment', async () => {
      const id = await mailbox('anagrafe@comune.pec.test', 3);
      const waits = await Promise.all(
        Array.from({ length: 12 }, () => takeSendingSlot(ctx, TENANT, id)),
      );
      expect(waits.filter((wait) => wait === 0)).toHaveLength(3);
      expect(new Set(waits.filter((wait) => wait > 0))).toEqual(new Set([60 * SECOND]));
    });

    it('gives freed slots to the sends waiting for them in the order they first asked', async () => {
      const id = await mailbox('tributi.fifo@comune.pec.test', 2);
      const slot = (key?: string) => takeSendingSlot(ctx, TENANT, id, key);
      expect([await slot('task:a'), await slot('task:b')]).toEqual([0, 0]);
      // c, d and e wait in that order; each is told when the slot it waits for frees.
      clock += 10 * SECOND;
      expect([await slot('task:c'), await slot('task:d')]).toEqual([50 * SECOND, 50 * SECOND]);
      // Past this window's two: c's slot, once c has used it at +60 s, frees a minute later.
      expect(await slot('task:e')).toBe(110 * SECOND);
      clock += 50 * SECOND;
      // Both slots are free again: e asks first, but c and d are owed them.
      expect(await slot('task:e')).toBe(60 * SECOND);
      expect(await slot()).toBe(60 * SECOND); // nor does a send without a key jump the queue
      expect([await slot('task:d'), await slot('task:c')]).toEqual([0, 0]);
      expect(await slot('task:e')).toBe(60 * SECOND);
      clock += 60 * SECOND;
      expect(await slot('task:e')).toBe(0);
      expect(await slot()).toBe(0);
    });

    it('a waiter keeps its place while it asks again, and loses it once it stops', async () => {
      const id = await mailbox('tributi.lapse@comune.pec.test', 1);
      const slot = (key?: string) => takeSendingSlot(ctx, TENANT, id, key);
      expect(await slot('task:a')).toBe(0);
      expect(await slot('task:gone')).toBe(60 * SECOND);
      expect(await slot('task:b')).toBe(120 * SECOND); // behind task:gone: the next minute's
      clock += 30 * SECOND;
      expect(await slot('task:gone')).toBe(30 * SECOND);
      clock += 30 * SECOND;
      // The slot is free, and still owed to task:gone, which asked 30 s ago.
      expect(await slot('task:b')).toBe(60 * SECOND);
      // task:gone's instance was cancelled: it never asks again. Told at +30 s to ask again
      // within 10 s, it keeps its place for a minute more, until +100 s.
      clock += 39 * SECOND;
      expect(await slot('task:b')).toBe(60 * SECOND);
      clock += 2 * SECOND;
      expect(await slot('task:b')).toBe(0);
    });

    it('tells a send far back in the queue to ask again less often, and keeps its place meanwhile', async () => {
      const id = await mailbox('tributi.deep@comune.pec.test', 1);
      expect(await takeSendingSlot(ctx, TENANT, id, 'task:first')).toBe(0);
      const waits: number[] = [];
      for (let n = 0; n < 10; n++) waits.push(await takeSendingSlot(ctx, TENANT, id, `task:${n}`));
      // One slot a minute: the n-th waiter's comes about n minutes on.
      expect(waits).toEqual(
        [60, 120, 180, 240, 300, 360, 420, 480, 540, 600].map((s) => s * SECOND),
      );
      expect(waits.map((wait) => askAgainAfterMs(ctx, wait))).toEqual(
        [10, 90, 150, 210, 270, 300, 300, 300, 300, 300].map((s) => s * SECOND),
      );
      // Nobody asks for 200 s: those told to come back later than that still hold their place.
      clock += 200 * SECOND;
      expect((await mailboxServices(ctx).health(TENANT, id)).sending).toEqual({
        submittedLastMinute: 0,
        waiting: 8,
      });
      expect(await takeSendingSlot(ctx, TENANT, id, 'task:late')).toBeGreaterThan(6 * 60 * SECOND);
    });

    it("shows the pace's backlog in the mailbox health: sent in the last minute, queued", async () => {
      const id = await mailbox('tributi.backlog@comune.pec.test', 1);
      const sending = async () => (await mailboxServices(ctx).health(TENANT, id)).sending;
      expect(await sending()).toEqual({ submittedLastMinute: 0, waiting: 0 });
      await takeSendingSlot(ctx, TENANT, id, 'task:a');
      await takeSendingSlot(ctx, TENANT, id, 'task:b');
      await takeSendingSlot(ctx, TENANT, id, 'task:c');
      await takeSendingSlot(ctx, TENANT, id); // without a key: refused, not queued
      expect(await sending()).toEqual({ submittedLastMinute: 1, waiting: 2 });
      // They stopped asking: told to ask again within 10 s, each kept its place a minute more.
      clock += 151 * SECOND; // c, a minute back, was told to ask again in 90 s
      expect(await sending()).toEqual({ submittedLastMinute: 0, waiting: 0 });
      const unpaced = await mailbox('urp.backlog@comune.pec.test', null);
      expect((await mailboxServices(ctx).health(TENANT, unpaced)).sending).toBeNull();
    });

    it('leaves a mailbox without a limit alone, and follows a limit changed later', async () => {
      const id = await mailbox('urp@comune.pec.test', null);
      for (let n = 0; n < 20; n++) expect(await takeSendingSlot(ctx, TENANT, id)).toBe(0);
      const view = await mailboxServices(ctx).update(TENANT, id, {
        smtp: { host: '127.0.0.1', port: 1, tls: false, allowPlaintext: true, maxPerMinute: 1 },
      });
      expect(view.smtp).toMatchObject({ maxPerMinute: 1 });
      expect(await takeSendingSlot(ctx, TENANT, id)).toBe(0);
      expect(await takeSendingSlot(ctx, TENANT, id)).toBe(60 * SECOND);
    });

    it('refuses a send past the pace with 429 and when to try again, recording nothing', async () => {
      const id = await mailbox('suap@comune.pec.test', 1);
      expect(await takeSendingSlot(ctx, TENANT, id)).toBe(0);
      const rows = async () =>
        Number(
          ((await knexOf(runtime().orm)('message').count({ n: '*' })) as { n: string }[])[0]!.n,
        );
      const before = await rows();
      await expect(
        outgoingServices(ctx).send(TENANT, id, {
          to: ['ufficio@regione.pec.test'],
          subject: 'Comunicazione',
          text: '...',
        }),
      ).rejects.toMatchObject({
        code: 'sending-paced',
        status: 429,
        details: { maxPerMinute: 1, retryAfterMs: ctx.limits.pacingRecheckMs },
      });
      expect(await rows()).toBe(before);
    });

    it('spends no slot on a send refused for what it says', async () => {
      const id = await mailbox('protocollo@comune.pec.test', 1);
      await expect(
        outgoingServices(ctx).send(TENANT, id, {
          to: ['not-an-address'],
          subject: 'Comunicazione',
          text: '...',
        }),
      ).rejects.toMatchObject({ code: 'invalid-outgoing-pec', status: 400 });
      expect(await takeSendingSlot(ctx, TENANT, id)).toBe(0);
    });
  });
}
