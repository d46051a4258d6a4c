/**
 * Pacing under the Bot API's limits, exactly: one message a second per chat, 20 a minute per
 * group, 30 a second overall, a 429's retry_after per chat (overall when two chats are throttled
 * at once); a burst is spread out, never dropped; a send that cannot start before the deadline is
 * answered "not before T" without being counted. Pure scheduler, and the dispatcher on a test clock.
 */
import { describe, expect, it } from 'vitest';
import { Pacer } from '../../lambda/notify/telegram/pacer';
import {
  DEFAULT_PACING,
  EMPTY_PACING,
  earliestStart,
  pacedChat,
  planSends,
  recordSend,
  recordThrottle,
} from '../../lambda/notify/telegram/pacing';
import { TestClock } from '../support/telegram';

const T0 = 1_000_000;
const queue = (chats: (number | string)[]) => chats.map((chat, id) => ({ id, chat: pacedChat(chat) }));
const times = (plan: { at: number }[]) => plan.map((p) => p.at - T0);

describe('pacing (pure)', () => {
  it('knows groups and channels from private chats', () => {
    expect(pacedChat(-1001234567890)).toEqual({ key: '-1001234567890', group: true });
    expect(pacedChat('@hall')).toEqual({ key: '@hall', group: true });
    expect(pacedChat(123456789)).toEqual({ key: '123456789', group: false });
    expect(pacedChat('123456789').group).toBe(false);
  });

  it('sends to one person at most once a second', () => {
    expect(times(planSends(EMPTY_PACING, queue([5, 5, 5, 5, 5]), T0))).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('sends to one group at most 20 a minute: a burst of 25 takes 20 s, then waits for the window', () => {
    const plan = times(planSends(EMPTY_PACING, queue(Array(25).fill(-100)), T0));
    expect(plan.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i * 1000));
    expect(plan.slice(20)).toEqual([60_000, 61_000, 62_000, 63_000, 64_000]);
    expect(plan).toHaveLength(25); // never dropped
  });

  it('sends at most 30 a second overall', () => {
    const plan = times(planSends(EMPTY_PACING, queue(Array.from({ length: 45 }, (_, i) => i + 1)), T0));
    expect(plan.filter((t) => t === 0)).toHaveLength(30);
    expect(plan.filter((t) => t === 1000)).toHaveLength(15);
  });

  it('does not hold one chat up behind another chat’s burst', () => {
    const plan = planSends(EMPTY_PACING, queue([-100, -100, -100, 7]), T0);
    expect(plan.find((p) => p.id === 3)!.at - T0).toBe(0);
    expect(plan.filter((p) => p.id < 3).map((p) => p.at - T0)).toEqual([0, 1000, 2000]);
  });

  it('keeps each chat first come first served', () => {
    const plan = planSends(EMPTY_PACING, queue([1, 2, 1, 2, 1]), T0);
    const forChat1 = plan.filter((p) => [0, 2, 4].includes(p.id)).map((p) => p.id);
    expect(forChat1).toEqual([0, 2, 4]);
  });

  it('counts what was sent before', () => {
    let state = EMPTY_PACING;
    for (let i = 0; i < 20; i++) state = recordSend(state, pacedChat(-100), T0 + i * 1000);
    expect(earliestStart(state, pacedChat(-100), T0 + 20_000) - T0).toBe(60_000);
    expect(earliestStart(state, pacedChat(-200), T0 + 20_000) - T0).toBe(20_000);
    // a minute later the window has moved on, and the state has forgotten the old sends
    const later = recordSend(state, pacedChat(-100), T0 + 200_000);
    expect(later.chats.get('-100')!.sends).toEqual([T0 + 200_000]);
  });

  it('waits out a 429 in that chat only', () => {
    const state = recordThrottle(EMPTY_PACING, pacedChat(-100), T0, 7_000);
    expect(earliestStart(state, pacedChat(-100), T0) - T0).toBe(7_000);
    expect(earliestStart(state, pacedChat(-200), T0) - T0).toBe(0);
  });

  it('waits overall when a second chat is throttled while the first still waits', () => {
    let state = recordThrottle(EMPTY_PACING, pacedChat(-100), T0, 5_000);
    state = recordThrottle(state, pacedChat(-200), T0 + 1_000, 9_000);
    expect(earliestStart(state, pacedChat(-300), T0 + 1_000) - T0).toBe(10_000);
    expect(earliestStart(state, pacedChat(-100), T0 + 1_000) - T0).toBe(10_000);
  });

  it('forgets chats with nothing left to remember', () => {
    let state = EMPTY_PACING;
    for (let i = 0; i < 100; i++) state = recordSend(state, pacedChat(i + 1), T0 + i * 10_000);
    expect(state.chats.size).toBeLessThanOrEqual(7);
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_PACING).toEqual({
      perChatIntervalMs: 1000,
      groupMessagesPerWindow: 20,
      groupWindowMs: 60_000,
      globalMessagesPerWindow: 30,
      globalWindowMs: 1000,
    });
  });
});

describe('pacer (dispatcher on a test clock)', () => {
  it('hands out turns at exactly the planned times', async () => {
    const clock = new TestClock();
    const start = clock.now();
    const pacer = new Pacer(clock);
    const turns = await Promise.all(Array.from({ length: 22 }, () => pacer.turn(pacedChat(-100))));
    const at = turns.map((t) => (t.go ? t.at - start : Number.NaN));
    expect(at.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i * 1000));
    expect(at.slice(20)).toEqual([60_000, 61_000]);
  });

  it('answers "not before" for turns past the deadline, without counting them', async () => {
    const clock = new TestClock();
    const start = clock.now();
    const pacer = new Pacer(clock);
    const deadline = start + 4_500;
    const turns = await Promise.all(Array.from({ length: 8 }, () => pacer.turn(pacedChat(42), deadline)));
    expect(turns.filter((t) => t.go)).toHaveLength(5);
    expect(turns.filter((t) => !t.go).map((t) => (t.go ? 0 : t.notBefore - start))).toEqual([5000, 6000, 7000]);
    // the deferred ones were not counted: the next turn is one second after the last real one
    expect(earliestStart(pacer.snapshot, pacedChat(42), clock.now()) - start).toBe(5_000);
  });

  it('re-plans after a 429: the throttled chat waits, the others do not', async () => {
    const clock = new TestClock();
    const start = clock.now();
    const pacer = new Pacer(clock);
    const first = await pacer.turn(pacedChat(-100));
    expect(first).toEqual({ go: true, at: start });
    pacer.throttled(pacedChat(-100), 30_000);
    const [again, other] = await Promise.all([pacer.turn(pacedChat(-100)), pacer.turn(pacedChat(-200))]);
    expect(other).toEqual({ go: true, at: start });
    expect(again).toEqual({ go: true, at: start + 30_000 });
  });
});
