/**
 * The event record protocol (lambda/domain/record.ts) as a specification: which moves are legal,
 * when a refused write was in fact our own late-applied one, and the one rule for giving up.
 */
import { describe, expect, it } from 'vitest';
import {
  appliedByUs,
  attemptsExhausted,
  EVENT_STATUS,
  isLegalMove,
  RECORD_ATTR,
  recordIdOf,
  retryDelayMs,
  TRANSITIONS,
} from '../../lambda/domain/record';
import { TABLE_SCHEMA } from '../../lambda/state/keys';

describe('legal moves', () => {
  it.each([
    [undefined, 'claimed'],
    [undefined, 'baseline'],
    [undefined, 'suppressed'],
    ['claimed', 'delivered'],
    ['claimed', 'retry'],
    ['claimed', 'failed'],
    ['retry', 'claimed'],
    ['claimed', 'claimed'],
    ['suppressed', 'claimed'],
    ['delivered', 'claimed'],
    ['failed', 'claimed'],
    // standDown: an escalation step still pending when the call was acknowledged (finding F6).
    ['retry', 'delivered'],
  ] as const)('%s → %s is allowed', (from, to) => {
    expect(isLegalMove(from, to)).toBe(true);
  });

  it.each([
    ['delivered', 'failed'],
    ['failed', 'delivered'],
    ['delivered', 'retry'],
    ['baseline', 'delivered'],
    ['suppressed', 'delivered'],
  ] as const)('%s → %s is not', (from, to) => {
    expect(isLegalMove(from, to)).toBe(false);
  });

  it('only the claimant marks an outcome; a take-over needs the record due and its attempts unchanged', () => {
    for (const t of ['markDelivered', 'markRetry', 'markFailed'] as const)
      expect(TRANSITIONS[t].claimantOnly).toBe(true);
    expect(TRANSITIONS.takeOver).toMatchObject({ claimantOnly: false, whenDue: true });
  });

  it('the table keys are the record attributes', () => {
    expect(TABLE_SCHEMA).toMatchObject({
      partitionKey: RECORD_ATTR.pk,
      sortKey: RECORD_ATTR.sk,
      ttlAttribute: RECORD_ATTR.expiresAt,
      dueIndex: { partitionKey: RECORD_ATTR.duePk, sortKey: RECORD_ATTR.dueAt },
    });
  });
});

describe('a refused write that was our own, applied late', () => {
  it('a claim: the record is ours, first seen when we wrote it', () => {
    const intent = { owner: 'me', status: EVENT_STATUS.claimed, firstSeenAt: 100 };
    expect(appliedByUs('claim', { status: 'claimed', owner: 'me', firstSeenAt: 100 }, intent)).toBe(true);
    expect(appliedByUs('claim', { status: 'claimed', owner: 'other', firstSeenAt: 100 }, intent)).toBe(false);
    expect(appliedByUs('claim', { status: 'delivered', owner: 'me', firstSeenAt: 50 }, intent)).toBe(false);
  });

  it('a mark: the record already has the outcome, by us', () => {
    expect(appliedByUs('markDelivered', { status: 'delivered', owner: 'me' }, { owner: 'me' })).toBe(true);
    expect(appliedByUs('markDelivered', { status: 'claimed', owner: 'other' }, { owner: 'me' })).toBe(false);
    expect(appliedByUs('markRetry', { status: 'retry', owner: 'me' }, { owner: 'me' })).toBe(true);
  });

  it('a take-over: ours, with exactly one more attempt', () => {
    expect(appliedByUs('takeOver', { status: 'claimed', owner: 'me', attempts: 3 }, { owner: 'me', attempts: 3 })).toBe(
      true,
    );
    expect(appliedByUs('takeOver', { status: 'claimed', owner: 'me', attempts: 4 }, { owner: 'me', attempts: 3 })).toBe(
      false,
    );
    expect(appliedByUs('takeOver', undefined, { owner: 'me' })).toBe(false);
  });
});

describe('the retry budget', () => {
  const policy = { maxAttempts: 20, retryForMs: 600_000, firstDelayMs: 5_000, maxDelayMs: 60_000 };

  it('backs off 5, 10, 20, 40 s, then every minute', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelayMs(n, policy))).toEqual([
      5_000, 10_000, 20_000, 40_000, 60_000, 60_000,
    ]);
  });

  it('gives up at maxAttempts or when the next attempt would start after the window, whichever comes first', () => {
    expect(attemptsExhausted({ attemptsMade: 19, firstSeenAt: 0 }, 100_000, policy)).toBe(false);
    expect(attemptsExhausted({ attemptsMade: 20, firstSeenAt: 0 }, 100_000, policy)).toBe(true);
    expect(attemptsExhausted({ attemptsMade: 3, firstSeenAt: 0 }, 600_000, policy)).toBe(false);
    expect(attemptsExhausted({ attemptsMade: 3, firstSeenAt: 0 }, 600_001, policy)).toBe(true);
  });

  it('a record id is the hash when short, a digest otherwise; a reuse while the earlier record is pending gets its own', () => {
    expect(recordIdOf('0xd8833dd3')).toBe('0xd8833dd3');
    expect(recordIdOf('0x1', 1_234)).toBe('0x1@ya');
    const long = recordIdOf('x'.repeat(128));
    expect(long).toMatch(/^h[A-Za-z0-9_-]{18}$/);
    expect(recordIdOf('Ж')).toMatch(/^h/);
    // Within the 64 bytes of a Telegram button with the longest source id: "a:" + 32 + ":" + 29.
    expect(recordIdOf('y'.repeat(128), Date.UTC(2100, 0, 1)).length).toBeLessThanOrEqual(29);
  });
});
