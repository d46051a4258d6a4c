/**
 * Best-effort reading of the two objects whose shape the QR-menu server does not publish: the
 * table's `invoice` (bill) and its `order`. Recognises the shapes the simulator invents plus a
 * few synonyms, and never throws, whatever arrives (arrays, strings, nulls, deep nesting, odd
 * types): what cannot be read is left out, and `recognised` says whether anything was read.
 *
 *   invoice: { id, table, sum_to_pay | to_pay | amount | total | sum, currency?, dishes | items | positions }
 *   order:   { id, status?, dishes | items | positions, total | sum | amount }
 *   line:    { name | title (or dish/product/item: { name | title }), quantity | qty | count, price | sum }
 * Pure functions: no I/O.
 */
import { clip, oneLine, safeSlice } from './sms';

/** An amount as sent: a number, or text when it is not a plain number ("1 500,00 руб"). */
export type Amount = number | string;

export interface LineItem {
  readonly name: string;
  readonly quantity?: Amount;
  /** Price or line sum, whichever the server sent (`price` first). */
  readonly price?: Amount;
}

export interface BillDetails {
  /** Something useful was found (an id, an amount or at least one line). */
  readonly recognised: boolean;
  readonly id?: string;
  readonly status?: string;
  readonly amount?: Amount;
  readonly currency?: string;
  /** At most {@link DETAIL_LIMITS.items} lines. */
  readonly items: readonly LineItem[];
  /** Lines left out: beyond the limit, or without a readable name. */
  readonly moreItems: number;
}

export const DETAIL_LIMITS = {
  /** Lines shown per bill or order. */
  items: 30,
  /** Graphemes kept of a dish name. */
  name: 120,
  /** Graphemes kept of an id, a status, an amount given as text, a currency. */
  short: 40,
} as const;

const INVOICE_AMOUNT_KEYS = ['sum_to_pay', 'to_pay', 'amount', 'total', 'sum'] as const;
const ORDER_AMOUNT_KEYS = ['total', 'sum', 'amount', 'sum_to_pay', 'to_pay'] as const;
const LIST_KEYS = ['dishes', 'items', 'positions'] as const;
const ID_KEYS = ['id', 'number', 'num'] as const;
const NAME_KEYS = ['name', 'title'] as const;
const NESTED_NAME_KEYS = ['dish', 'product', 'item'] as const;
const QUANTITY_KEYS = ['quantity', 'qty', 'count'] as const;
const PRICE_KEYS = ['price', 'sum', 'total', 'cost'] as const;

/** The bill, or null when the event has none. */
export function extractInvoice(value: unknown): BillDetails | null {
  return extract(value, INVOICE_AMOUNT_KEYS);
}

/** The order, or null when the event has none. */
export function extractOrder(value: unknown): BillDetails | null {
  return extract(value, ORDER_AMOUNT_KEYS);
}

const NOTHING: BillDetails = { recognised: false, items: [], moreItems: 0 };

function extract(value: unknown, amountKeys: readonly string[]): BillDetails | null {
  if (value === null || value === undefined) return null;
  try {
    const record = asRecord(value);
    if (!record) return NOTHING;
    const id = firstText(record, ID_KEYS);
    const status = firstText(record, ['status', 'state']);
    const amount = firstAmount(record, amountKeys);
    const currency = firstText(record, ['currency', 'currency_code']);
    const list = LIST_KEYS.map((key) => own(record, key)).find(Array.isArray) as unknown[] | undefined;
    const lines = list ?? [];
    const items: LineItem[] = [];
    for (let i = 0; i < lines.length && items.length < DETAIL_LIMITS.items; i += 1) {
      const line = readLine(lines[i]);
      if (line !== undefined) items.push(line);
    }
    const details: BillDetails = {
      recognised: id !== undefined || amount !== undefined || items.length > 0,
      items,
      moreItems: lines.length - items.length,
      ...(id !== undefined && { id }),
      ...(status !== undefined && { status }),
      ...(amount !== undefined && { amount }),
      ...(currency !== undefined && { currency }),
    };
    return details;
  } catch {
    // A getter that throws, a Proxy, anything exotic: show nothing rather than fail a delivery.
    return NOTHING;
  }
}

function readLine(value: unknown): LineItem | undefined {
  const record = asRecord(value);
  if (!record) return undefined;
  let name = firstText(record, NAME_KEYS, DETAIL_LIMITS.name);
  if (name === undefined) {
    for (const key of NESTED_NAME_KEYS) {
      const nested = asRecord(own(record, key));
      name = nested && firstText(nested, NAME_KEYS, DETAIL_LIMITS.name);
      if (name !== undefined) break;
    }
  }
  if (name === undefined) return undefined;
  const quantity = firstAmount(record, QUANTITY_KEYS);
  const price = firstAmount(record, PRICE_KEYS);
  return { name, ...(quantity !== undefined && { quantity }), ...(price !== undefined && { price }) };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** An own property only: never `constructor`, `toString` or anything inherited. */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The first key holding a non-empty string or a finite number, as one line of text. */
function firstText(
  record: Record<string, unknown>,
  keys: readonly string[],
  max: number = DETAIL_LIMITS.short,
): string | undefined {
  for (const key of keys) {
    const value = own(record, key);
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'string') {
      const text = oneLine(safeSlice(value, max * 16));
      if (text !== '') return clip(text, max);
    }
  }
  return undefined;
}

/** The first key holding an amount: a finite number, a numeric string (as a number), or other text. */
function firstAmount(record: Record<string, unknown>, keys: readonly string[]): Amount | undefined {
  for (const key of keys) {
    const value = own(record, key);
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string') {
      const text = oneLine(safeSlice(value, DETAIL_LIMITS.short * 16));
      if (text === '') continue;
      const number = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
      return Number.isFinite(number) ? number : clip(text, DETAIL_LIMITS.short);
    }
  }
  return undefined;
}
