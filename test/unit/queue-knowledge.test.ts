/**
 * The rule for repeats and reused hashes, and what a server's answers teach about its queue
 * (lambda/poller/queue-knowledge.ts): pure functions, plain values.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_SOURCE_STATE, type SourceState } from '../../lambda/domain/source-state';
import {
  effectiveRetentionMs,
  judgeRecorded,
  longestKeepMs,
  observeAnswer,
  type RecordedFacts,
} from '../../lambda/poller/queue-knowledge';

const settings = { intervalMs: 10_000, retentionMs: 300_000 };
const ev = (hash: string, code = 'waiter_call', tableName = '6') => ({ hash, code, tableName });
const rec = (firstSeenAt: number, code = 'waiter_call', table = '6'): RecordedFacts => ({ firstSeenAt, code, table });
const base = { now: 100_000, goneAt: undefined, inLastQueue: true, longestKeepMs: 310_000 };

describe('a hash with a record', () => {
  it('is a repeat while it stays queued with the same code and table', () => {
    expect(judgeRecorded(rec(0), ev('0x1'), base)).toBe('repeat');
  });

  it('is a new event when its code or table differ', () => {
    expect(judgeRecorded(rec(0), ev('0x1', 'bill_request'), base)).toBe('reissued');
    expect(judgeRecorded(rec(0), ev('0x1', 'waiter_call', '7'), base)).toBe('reissued');
  });

  it('is a new event once it was seen to leave the queue; a record written after that is the new one', () => {
    expect(judgeRecorded(rec(0), ev('0x1'), { ...base, goneAt: 50_000 })).toBe('reissued');
    expect(judgeRecorded(rec(50_000), ev('0x1'), { ...base, goneAt: 50_000 })).toBe('reissued');
    expect(judgeRecorded(rec(60_000), ev('0x1'), { ...base, goneAt: 50_000 })).toBe('repeat');
  });

  it('is a new event when older than the server keeps anything, unless it was queued all along', () => {
    const old = { ...base, now: 400_000, inLastQueue: false };
    expect(judgeRecorded(rec(0), ev('0x1'), old)).toBe('reissued');
    expect(judgeRecorded(rec(0), ev('0x1'), { ...old, inLastQueue: true })).toBe('repeat');
  });

  it('keeps matching a record whose table name the store clipped', () => {
    expect(
      judgeRecorded(rec(0, 'waiter_call', `${'Ж'.repeat(199)}…`), ev('0x1', 'waiter_call', 'Ж'.repeat(5000)), base),
    ).toBe('repeat');
  });
});

describe('comparing answers with what is known to be queued', () => {
  /** [hash, first seen]: last seen at the snapshot, queued an interval before its first sighting. */
  const queued = (at: number, events: [string, number][]): SourceState => ({
    ...EMPTY_SOURCE_STATE,
    queue: { at, events: events.map(([hash, first]) => [hash, first, at, first - 10_000] as const) },
  });
  const known = (map: Record<string, RecordedFacts>) => (hash: string) => map[hash];

  it('events that expire (oldest first) are gone, and bound the retention from above', () => {
    const state = queued(60_000, [
      ['0x1', 0],
      ['0x2', 30_000],
      ['0x3', 50_000],
    ]);
    const seen = known({ '0x1': rec(0), '0x2': rec(30_000), '0x3': rec(50_000) });
    const o = observeAnswer(state, { events: [ev('0x3')], complete: true }, seen, 90_000, settings, 80_000);
    expect(o.reset).toBe(false);
    expect(o.vanished).toEqual(['0x1', '0x2']);
    // Gone: the events of those hashes seen until their last sighting (60 s).
    expect(o.state.gone).toEqual({ '0x1': 60_000, '0x2': 60_000 });
    // 0x2 was queued after the poll before its first sighting (20 s) and had left by 90 s.
    expect(o.state.learnt.retentionMs).toBe(70_000);
    expect(effectiveRetentionMs({ learnt: o.state.learnt }, settings)).toBe(70_000);
    expect(o.state.queue?.events).toEqual([['0x3', 50_000, 90_000, 40_000]]);
  });

  it('after an absence an event first seen late may have been queued long before: the bound says so', () => {
    // The poller was away from 100 s to 400 s; 0x9 was first seen at 400 s.
    const state: SourceState = {
      ...EMPTY_SOURCE_STATE,
      queue: { at: 400_000, events: [['0x9', 400_000, 400_000, 100_000]] },
    };
    const o = observeAnswer(state, { events: [], complete: true }, known({ '0x9': rec(400_000) }), 430_000, settings);
    expect(o.state.learnt.retentionMs).toBe(330_000); // not 40 s: it may have been queued at 100 s
  });

  it('events lost out of order mean a rebuilt queue: every event of the last complete answer is gone', () => {
    const state = queued(60_000, [
      ['0x1', 0],
      ['0x2', 30_000],
      ['0x3', 50_000],
    ]);
    const seen = known({ '0x1': rec(0), '0x2': rec(30_000), '0x3': rec(50_000) });
    const o = observeAnswer(state, { events: [ev('0x1')], complete: true }, seen, 90_000, settings);
    expect(o.reset).toBe(true);
    expect(Object.keys(o.state.gone).sort()).toEqual(['0x1', '0x2', '0x3']);
    expect(o.state.learnt.retentionMs).toBeUndefined(); // a restart teaches nothing about retention
    expect(o.state.queue?.events.map((e) => e.slice(0, 3))).toEqual([['0x1', 90_000, 90_000]]);
  });

  it('a known hash back with another table means a rebuilt queue, in any answer', () => {
    const state = queued(60_000, [
      ['0x1', 0],
      ['0x2', 30_000],
    ]);
    const seen = known({ '0x1': rec(0), '0x2': rec(30_000) });
    const o = observeAnswer(
      state,
      { events: [ev('0x2', 'waiter_call', '9')], complete: false },
      seen,
      90_000,
      settings,
    );
    expect(o.reset).toBe(true);
    expect(Object.keys(o.state.gone).sort()).toEqual(['0x1', '0x2']);
  });

  it('events a cursor answer shows are known to be queued, and leave it like the others', () => {
    const state = queued(60_000, [['0x1', 0]]);
    const seen = known({ '0x1': rec(0), '0x2': rec(70_000) });
    const cursor = observeAnswer(state, { events: [ev('0x2')], complete: false }, seen, 70_000, settings, 60_000);
    expect(cursor.state.queue).toEqual({
      at: 60_000,
      events: [
        ['0x1', 0, 60_000, -10_000],
        ['0x2', 70_000, 70_000, 60_000],
      ],
    });
    // The next complete answer lacks 0x2 but shows 0x1: out of order, the queue was rebuilt.
    const o = observeAnswer(cursor.state, { events: [ev('0x1')], complete: true }, seen, 90_000, settings);
    expect(o.vanished).toEqual(['0x2']);
    expect(o.reset).toBe(true);
    expect(o.state.gone).toEqual({ '0x1': 60_000, '0x2': 70_000 });
  });

  it('a reset is known only to follow the last complete answer: a hash a cursor answer showed since stays the event queued now', () => {
    // Complete at 0: 0x1. Cursor answers at 10 s and 20 s: 0x2, 0x3. At 30 s 0x1 is another table (a reset,
    // some time after 0 s); 0x2 and 0x3 with their code and table may have been seen after it, so they are not gone.
    let state: SourceState = queued(0, [['0x1', 0]]);
    const seen = known({ '0x1': rec(0, 'waiter_call', '2'), '0x2': rec(10_000), '0x3': rec(20_000) });
    state = {
      ...state,
      ...observeAnswer(state, { events: [ev('0x2')], complete: false }, seen, 10_000, settings, 0).state,
    };
    state = {
      ...state,
      ...observeAnswer(state, { events: [ev('0x3')], complete: false }, seen, 20_000, settings, 0).state,
    };
    const answer = [ev('0x1', 'waiter_call', '5'), ev('0x2'), ev('0x3'), ev('0x4')];
    const o = observeAnswer(state, { events: answer, complete: true }, seen, 30_000, settings, 0);
    expect(o.reset).toBe(true);
    expect(o.state.gone).toEqual({ '0x1': 0 });
    // A hash seen since that vanished from the complete answer did leave.
    const without = observeAnswer(
      state,
      { events: [ev('0x1', 'waiter_call', '5')], complete: true },
      seen,
      30_000,
      settings,
      0,
    );
    expect(without.state.gone).toEqual({ '0x1': 0, '0x2': 10_000, '0x3': 20_000 });
  });

  it('an event seen still queued past the learnt retention raises it, and the longest ever seen is kept', () => {
    const state: SourceState = { ...queued(100_000, [['0x1', 0]]), learnt: { retentionMs: 70_000 } };
    const o = observeAnswer(
      state,
      { events: [ev('0x1')], complete: true },
      known({ '0x1': rec(0) }),
      120_000,
      settings,
    );
    expect(o.state.learnt).toEqual({ retentionMs: 120_000, longestSeenMs: 120_000 });
    expect(longestKeepMs({ learnt: o.state.learnt }, settings)).toBe(310_000);
  });

  it('an empty cursor answer changes nothing', () => {
    const state = queued(60_000, [['0x1', 0]]);
    const o = observeAnswer(state, { events: [], complete: false }, known({ '0x1': rec(0) }), 90_000, settings);
    expect(o.vanished).toEqual([]);
    expect(o.state.queue).toEqual(state.queue);
  });

  it('forgets hashes that left the queue once their records are surely too old to be confused', () => {
    const state: SourceState = { ...EMPTY_SOURCE_STATE, gone: { '0x1': 0, '0x2': 200_000 } };
    const o = observeAnswer(state, { events: [], complete: true }, known({}), 400_000, settings);
    expect(o.state.gone).toEqual({ '0x2': 200_000 });
  });
});
