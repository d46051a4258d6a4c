/**
 * When an alert may go out under an account's send quota: at most `perSecond` units start in any
 * one-second window — for SES the recipients of each SendEmail (SES counts every recipient
 * against its maximum send rate), for SNS the phones a publish reaches (each SMS counts against
 * the account's SMS rate), at least 1. A send costing more than `perSecond` (one e-mail to more
 * recipients than the rate) starts only when the window is empty and then fills it for
 * cost / perSecond seconds, as SES itself allows such a message and refuses the next ones.
 *
 * Pure functions over an immutable {@link RateWindow}; the caller passes the time. The stateful
 * dispatcher that waits for the planned instants is notify/pacing/send-pacer.ts.
 */

export const RATE_WINDOW_MS = 1_000;

interface Start {
  readonly at: number;
  readonly cost: number;
  /** When this start stops counting against the window. */
  readonly until: number;
}

export interface RateWindow {
  /** Starts still counting, in the order they were recorded. */
  readonly starts: readonly Start[];
}

export const EMPTY_WINDOW: RateWindow = { starts: [] };

/** Float slack: 14 / 3 shards is not exact. */
const EPSILON = 1e-9;

/** How long a start of `cost` counts against the window. */
function heldFor(cost: number, perSecond: number): number {
  return RATE_WINDOW_MS * Math.max(1, cost / perSecond);
}

/** The earliest instant (≥ now) at which a send of `cost` may start. */
export function earliestStart(window: RateWindow, cost: number, now: number, perSecond: number): number {
  const live = window.starts.filter((s) => s.until > now).sort((a, b) => a.until - b.until);
  const room = Math.max(perSecond, cost) - cost;
  let used = live.reduce((sum, s) => sum + s.cost, 0);
  let at = now;
  for (const start of live) {
    if (used <= room + EPSILON) break;
    at = start.until;
    used -= start.cost;
  }
  return at;
}

/** The window after a send of `cost` started at `at` (starts that no longer count are dropped). */
export function recordStart(window: RateWindow, cost: number, at: number, perSecond: number): RateWindow {
  return {
    starts: [...window.starts.filter((s) => s.until > at), { at, cost, until: at + heldFor(cost, perSecond) }],
  };
}

export interface PlannedSend<T> {
  readonly id: T;
  /** When it may start; for a late one, the first instant it could have. */
  readonly at: number;
  /** It cannot start by its deadline: not counted, the caller is told `at` to try again then. */
  readonly late: boolean;
}

/**
 * When each queued send may start, in queue order (first come, first served: none before one
 * queued ahead of it): each one's start is counted before the next is planned; one that would have
 * to wait past its deadline is marked late and counts nothing. The deadline bounds the wait only:
 * a send that may start now does.
 */
export function planStarts<T>(
  window: RateWindow,
  queue: readonly { readonly id: T; readonly cost: number; readonly deadline: number }[],
  now: number,
  perSecond: number,
): PlannedSend<T>[] {
  let state = window;
  let after = now; // no send planned before one queued ahead of it
  return queue.map(({ id, cost, deadline }) => {
    const at = earliestStart(state, cost, after, perSecond);
    if (at > now && at > deadline) return { id, at, late: true };
    state = recordStart(state, cost, at, perSecond);
    after = at;
    return { id, at, late: false };
  });
}

/**
 * The least time from the first start to the last of `units` one-unit sends at `perSecond`, by
 * the rule above (1,000 e-mails at 14/s: 71 s, the 1,000th starting in the 72nd second).
 */
export function leastBurstMs(units: number, perSecond: number): number {
  if (units <= 0) return 0;
  if (perSecond < 1) return (units - 1) * heldFor(1, perSecond);
  const perWindow = Math.floor(perSecond + EPSILON);
  return (Math.ceil(units / perWindow) - 1) * RATE_WINDOW_MS;
}
