/**
 * One QR-menu event as the rest of the notifier sees it, after lenient validation.
 *
 * The server's own object is kept in `raw` (unknown keys included) so that nothing it said is
 * lost on the way to an SNS JSON subscriber; the other fields are what the core needs, with
 * placeholders where the server left something out (listed in `placeholders`).
 */

export interface QrEvent {
  /** The server's event id ("0xd8833dd3"); the only field an event cannot do without. */
  readonly hash: string;
  /** Event name ("waiter_call"); `"unknown"` when the server sent none. */
  readonly code: string;
  /** The server's numeric table id; null when missing. Means nothing to a waiter. */
  readonly tableId: number | string | null;
  /** What staff call the table (`table_repr.name`); falls back to the table id, then `"?"`. */
  readonly tableName: string;
  /** The table's current bill, shape not public: kept as sent. */
  readonly invoice: Readonly<Record<string, unknown>> | null;
  /** The full order, shape not public: kept as sent. */
  readonly order: Readonly<Record<string, unknown>> | null;
  /** The event object exactly as the server sent it. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** Fields that were missing or unusable and were replaced by a placeholder. */
  readonly placeholders: readonly string[];
}

/** The code of the one documented event. */
export const WAITER_CALL = 'waiter_call';
/** Placeholder for a missing code. */
export const UNKNOWN_CODE = 'unknown';
/** Placeholder for a missing table name. */
export const UNKNOWN_TABLE = '?';

/**
 * Codes with their own message text. Only `waiter_call` is documented by the vendor; the others
 * are invented, modelled on a peer system (iikoWaiter: waiter call, waiter call with cash payment,
 * order paid, new order) — plausible guesses, never relied on. Any other code is still delivered,
 * with a generic text that names the code.
 */
export const KNOWN_CODES = {
  waiter_call: 'documented',
  bill_request: 'invented',
  waiter_call_cash: 'invented',
  new_order: 'invented',
  order_paid: 'invented',
} as const;
export type KnownCode = keyof typeof KNOWN_CODES;
