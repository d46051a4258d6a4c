/**
 * The poll cycle's pure decisions (lambda/poller/decisions.ts), without DynamoDB or a server:
 * which hash to ask for, what each event is, where the cursor may move, what an attempt means.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_SOURCE_STATE, type SourceState } from '../../lambda/domain/source-state';
import { DEFAULT_RETRY_DELAYS } from '../../lambda/domain/record';
import type { QrEvent } from '../../lambda/domain/event';
import {
  advanceCursor,
  chooseQuery,
  isPossibleGap,
  judgeDelivery,
  type PollSettings,
  sendDeadline,
  type TriageContext,
  triage,
} from '../../lambda/poller/decisions';

const settings: PollSettings = {
  intervalMs: 10_000,
  retentionMs: 300_000,
  reconcileMs: 30_000,
  cooldownMs: 60_000,
  claimTimeoutMs: 30_000,
  maxAttempts: 20,
  retryForMs: 600_000,
  ...DEFAULT_RETRY_DELAYS,
  deliverBacklog: false,
};
const event = (hash: string, tableName = '6', code = 'waiter_call'): QrEvent => ({
  hash,
  code,
  tableId: null,
  tableName,
  invoice: null,
  order: null,
  raw: {},
  placeholders: [],
});
const warm: SourceState = {
  ...EMPTY_SOURCE_STATE,
  baselineAt: 0,
  cursor: '0xc',
  cursorAt: 100_000,
  lastNoneAt: 100_000,
};

describe('which hash to ask for', () => {
  it('the cursor while it is trusted and no reconcile is due', () => {
    expect(chooseQuery(warm, 110_000, settings)).toEqual({ cursor: '0xc', reason: 'cursor' });
  });

  it('everything when the reconcile is due, the cursor is stale, or it was seen to leave the queue', () => {
    expect(chooseQuery(warm, 130_000, settings).reason).toBe('reconcile');
    expect(chooseQuery({ ...warm, lastNoneAt: 390_000 }, 390_000, settings).reason).toBe('cursor-stale');
    expect(chooseQuery({ ...warm, gone: { '0xc': 105_000 } }, 110_000, settings).reason).toBe('cursor-gone');
  });

  it('trusts the cursor only within the learnt retention when that is shorter', () => {
    const learnt = { ...warm, learnt: { retentionMs: 60_000 } };
    expect(chooseQuery({ ...learnt, lastNoneAt: 139_000 }, 139_000, settings).reason).toBe('cursor');
    expect(chooseQuery({ ...learnt, lastNoneAt: 140_000 }, 140_000, settings).reason).toBe('cursor-stale');
  });

  it('keeps to the cursor while a failing hash=none is backed off', () => {
    const failing = { ...warm, reconcile: { failures: 2, nextAt: 200_000 } };
    expect(chooseQuery(failing, 150_000, settings).reason).toBe('reconcile-backed-off');
    expect(chooseQuery(failing, 200_000, settings).reason).toBe('reconcile');
  });

  it('reports a gap against the learnt retention', () => {
    const state = { ...warm, lastSuccessAt: 0, learnt: { retentionMs: 60_000 } };
    expect(isPossibleGap(state, 61_000, settings)).toBe(true);
    expect(isPossibleGap({ ...state, learnt: {} }, 61_000, settings)).toBe(false);
  });
});

describe('what each event is', () => {
  const context = (over: Partial<TriageContext> = {}): TriageContext => ({
    firstRun: false,
    now: 200_000,
    cooldowns: {},
    recorded: () => undefined,
    originalStatus: () => undefined,
    goneAt: () => undefined,
    inLastQueue: () => false,
    longestKeepMs: 310_000,
    ...over,
  });

  it('a reused hash of another table is new, with the record it replaces', () => {
    const recorded = { firstSeenAt: 10_000, code: 'waiter_call', table: '3' };
    const [t] = triage([event('0x1', '6')], context({ recorded: () => recorded }), settings).events;
    expect(t!.fate).toEqual({ kind: 'new', reissueOf: recorded });
  });

  it('a repeat inside the cooldown is suppressed, held while its original is not delivered', () => {
    const out = triage([event('0x1'), event('0x2')], context(), settings);
    expect(out.events.map((t) => t.fate)).toEqual([
      { kind: 'new' },
      { kind: 'suppressed', original: '0x1', hold: true },
    ]);
    const delivered = triage(
      [event('0x3')],
      context({ cooldowns: out.cooldowns, originalStatus: () => 'delivered' }),
      settings,
    );
    expect(delivered.events[0]!.fate).toEqual({ kind: 'suppressed', original: '0x1', hold: false });
  });

  it('a repeat behind an original that failed is sent', () => {
    const cooldowns = { '6#waiter_call': { until: 250_000, hash: '0x1' } };
    const out = triage([event('0x2')], context({ cooldowns, originalStatus: () => 'failed' }), settings);
    expect(out.events[0]!.fate).toEqual({ kind: 'new' });
    expect(out.cooldowns['6#waiter_call']).toEqual({ until: 260_000, hash: '0x2' });
  });
});

describe('where the cursor may move', () => {
  it('to the last event of the recorded prefix, never past an unrecorded one', () => {
    const events = ['0x1', '0x2', '0x3', '0x4'].map((h) => event(h));
    const recorded = new Set(['0x1', '0x2', '0x4']);
    expect(
      advanceCursor(
        warm,
        events,
        (h) => recorded.has(h),
        () => 5,
      ),
    ).toEqual({ cursor: '0x2', cursorAt: 5 });
    expect(
      advanceCursor(
        warm,
        events,
        () => false,
        () => 5,
      ),
    ).toEqual({ cursor: '0xc', cursorAt: 100_000 });
  });
});

describe('whether a send may still start', () => {
  // As the handler runs a tick: polling stops at 57 s, the lease lasts the 90-s timeout less 8 s.
  const window = { startBy: 57_000, finishBy: 82_000 };
  it('starts up to the tick deadline, with its whole budget after it', () => {
    expect(sendDeadline(window, 10_000, 10_000)).toBe(67_000);
    expect(sendDeadline(window, 52_000, 10_000)).toBe(67_000);
    expect(sendDeadline(window, 57_000, 10_000)).toBe(67_000);
    expect(sendDeadline(window, 57_001, 10_000)).toBeUndefined();
  });
  it('never runs past the end of the lease', () => {
    const nearEnd = { startBy: 80_000, finishBy: 82_000 };
    expect(sendDeadline(nearEnd, 70_000, 10_000)).toBe(82_000);
    expect(sendDeadline(nearEnd, 72_001, 10_000)).toBeUndefined();
    expect(sendDeadline(nearEnd, 75_000, 10_000)).toBeUndefined();
  });
});

describe('what an attempt means', () => {
  const record = { attempts: 1, firstSeenAt: 0, doneChannels: [] as const };

  it('keeps what worked, retries what did not, and names the sends whose outcome is unknown', () => {
    const verdict = judgeDelivery(
      {
        channels: [
          { channel: 'email', ok: true, recipients: ['a@x'], messageIds: ['1'] },
          { channel: 'sns', ok: false, kind: 'transient', message: 'no answer in time', ambiguous: true },
        ],
      },
      record,
      1_000,
      settings,
    );
    expect(verdict).toMatchObject({ outcome: 'retry', doneChannels: ['email'], ambiguous: ['sns'], dueAt: 6_000 });
  });

  it('gives up on permanent errors, and when the next attempt would start after the retry window', () => {
    const permanent = {
      channels: [{ channel: 'sns' as const, ok: false as const, kind: 'permanent' as const, message: 'x' }],
    };
    expect(judgeDelivery(permanent, record, 1_000, settings).outcome).toBe('failed');
    const transient = {
      channels: [{ channel: 'sns' as const, ok: false as const, kind: 'transient' as const, message: 'x' }],
    };
    expect(judgeDelivery(transient, { ...record, attempts: 9 }, 560_000, settings).outcome).toBe('failed');
    expect(judgeDelivery(transient, { ...record, attempts: 9 }, 530_000, settings).outcome).toBe('retry');
  });
});
