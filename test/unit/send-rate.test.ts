/**
 * Pacing to the account's send quotas (lambda/core/send-rate.ts, lambda/notify/pacing/send-pacer.ts) on
 * a manual clock: a burst of 1,000 sends never puts more than the rate into any one-second window,
 * recipients count as SES counts them, a send that cannot start by its deadline is told when it
 * may and counts nothing, and each shard's invocation gets its share.
 */
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { EMPTY_WINDOW, earliestStart, leastBurstMs, planStarts, recordStart } from '../../lambda/core/send-rate';
import { quotaBoundBurstMs, quotaShare, sharedParts } from '../../lambda/notify/deliverer';
import { SendPacer } from '../../lambda/notify/pacing/send-pacer';
import { busiestSecond } from '../support/event-clock';
import { ManualClock, seededRandom } from '../support/harness';

describe('send pacing', () => {
  it('1,000 sends at 14/s, 8 at a time: never more than 14 in any second, the last at 71 s', async () => {
    const clock = new ManualClock();
    const pacer = new SendPacer(clock, 14);
    const t0 = clock.now();
    const limit = pLimit(8);
    const starts = await Promise.all(
      Array.from({ length: 1_000 }, () =>
        limit(async () => {
          const turn = await pacer.turn(1);
          if (!turn.go) throw new Error('no deadline was given');
          return { at: turn.at - t0, cost: 1 };
        }),
      ),
    );
    expect(busiestSecond(starts)).toBe(14);
    expect(Math.max(...starts.map((s) => s.at))).toBe(71_000);
    expect(leastBurstMs(1_000, 14)).toBe(71_000);
  });

  it('counts recipients: mixed e-mails of 1–4 recipients never exceed the rate in any second', async () => {
    const clock = new ManualClock();
    const pacer = new SendPacer(clock, 14);
    const random = seededRandom(7);
    const costs = Array.from({ length: 300 }, () => 1 + Math.floor(random() * 4));
    const starts = await Promise.all(
      costs.map(async (cost) => {
        const turn = await pacer.turn(cost); // no deadline: every turn comes
        return { at: turn.go ? turn.at : Number.NaN, cost };
      }),
    );
    expect(busiestSecond(starts)).toBeLessThanOrEqual(14);
    // …and none is held back needlessly: first come, first served leaves at most (largest cost − 1)
    // of each second unused while the next in line waits for its room.
    const units = costs.reduce((a, b) => a + b, 0);
    const span = Math.max(...starts.map((s) => s.at)) - Math.min(...starts.map((s) => s.at));
    expect(span).toBeGreaterThanOrEqual((units / 14 - 1) * 1_000);
    expect(span).toBeLessThanOrEqual((units / (14 - 3)) * 1_000);
  });

  it('a send that would wait past its deadline is told when it may go, counts nothing, and goes then', async () => {
    const clock = new ManualClock();
    const pacer = new SendPacer(clock, 2);
    const deadline = clock.now() + 1_500;
    const turns = await Promise.all(Array.from({ length: 6 }, () => pacer.turn(1, deadline)));
    const went = turns.filter((t) => t.go);
    const told = turns.flatMap((t) => (t.go ? [] : [t.notBefore]));
    expect(went).toHaveLength(4); // two at once, two a second later; the 2nd second's starts are past 1.5 s
    expect(told).toHaveLength(2);
    clock.t = Math.max(clock.t, ...told);
    const later = await Promise.all(told.map(() => pacer.turn(1, clock.now() + 1_500)));
    expect(later.every((t) => t.go)).toBe(true); // nothing dropped
  });

  it('plans a queue first come, first served, each after the one ahead of it: 30 sends at 14/s over three seconds', () => {
    const plan = planStarts(
      EMPTY_WINDOW,
      Array.from({ length: 30 }, (_, id) => ({ id, cost: 1, deadline: Number.POSITIVE_INFINITY })),
      0,
      14,
    );
    expect(plan.map((p) => p.at)).toEqual([
      ...Array<number>(14).fill(0),
      ...Array<number>(14).fill(1_000),
      ...Array<number>(2).fill(2_000),
    ]);
  });

  it('a send may always start when the window has room, whatever its deadline', () => {
    const plan = planStarts(EMPTY_WINDOW, [{ id: 'a', cost: 1, deadline: 0 }], 5_000, 14);
    expect(plan).toEqual([{ id: 'a', at: 5_000, late: false }]);
  });

  it('an e-mail to more recipients than the rate goes alone, and fills the window for cost / rate seconds', () => {
    let window = recordStart(EMPTY_WINDOW, 1, 0, 14);
    expect(earliestStart(window, 30, 0, 14)).toBe(1_000); // waits for an empty window
    window = recordStart(window, 30, 1_000, 14);
    expect(earliestStart(window, 1, 1_000, 14)).toBeCloseTo(1_000 + (30 / 14) * 1_000);
  });

  it('shares the quotas among the shards (each invocation gets rate / shards)', () => {
    const sources = Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, url: 'https://qr.example' }));
    expect(quotaShare(parseAlertsConfig({ sources }))).toEqual({ ses: 14 / 3, sns: 20 / 3 });
    expect(quotaShare(parseAlertsConfig({ sources: sources.slice(0, 1) }))).toEqual({ ses: 14, sns: 20 });
    expect(leastBurstMs(10, 14 / 20)).toBeCloseTo(9 * (20 / 14) * 1_000);
  });

  it('shared pacing: half of a quota split among the shards while that is at least 1/s each, the rest a pool', () => {
    expect(sharedParts(14, 2)).toEqual({ own: 3.5, pool: 7 });
    expect(sharedParts(20, 10)).toEqual({ own: 1, pool: 10 });
    expect(sharedParts(14, 20)).toEqual({ own: 0, pool: 14 });
    const sources = Array.from({ length: 3 }, (_, i) => ({ id: `s${i}`, url: 'https://qr.example', shard: i }));
    // What one shard may send while the others are quiet: 14/6 + 7 = 9.33 e-mails a second.
    expect(quotaShare(parseAlertsConfig({ sources }), { shared: true }).ses).toBeCloseTo(14 / 6 + 7);
  });

  it('the quota-bound minimum of a burst, from the config: 1,000 e-mails at 14/s take at least 71 s', () => {
    const config = parseAlertsConfig({ sources: [{ id: 'pizzeria', url: 'https://qr.example' }] });
    expect(quotaBoundBurstMs(config, { emailRecipients: 1_000, smsMessages: 840 })).toBe(71_000);
    expect(quotaBoundBurstMs(config, { emailRecipients: 100, smsMessages: 2_000 })).toBe(99_000);
  });
});
