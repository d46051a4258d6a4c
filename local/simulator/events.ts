/**
 * The events the simulator serves: their wire shape (as in the vendor's one documented example),
 * what a caller may say about an event it injects (`SimEventInput`), and a generator of plausible
 * restaurant traffic — mostly waiter calls, some bills, orders and payments, now and then a code
 * nobody documented.
 *
 * Only `waiter_call` and the wire fields are documented. The other codes come from KNOWN_CODES
 * (invented, modelled on a peer system) and the `invoice` / `order` shapes below are INVENTED: the
 * real ones are not public. They exist so that parsers meet nested, Cyrillic, fractional data.
 */
import * as z from 'zod';
import { InvalidEventInputError, describeIssues } from './errors';
import type { Random } from './random';

/** `table_repr` of an event. */
export interface WireTable {
  readonly id: number;
  readonly name: string;
  readonly max_guests: number;
}

/** One element of `data.updates`, as served. */
export interface WireEvent {
  readonly hash: string;
  readonly code: string;
  readonly table: number;
  readonly invoice: Readonly<Record<string, unknown>> | null;
  readonly order: Readonly<Record<string, unknown>> | null;
  readonly table_repr: WireTable;
}

/** What a caller may fix about an injected event; everything left out is generated. */
export interface SimEventInput {
  /** Event code; default: drawn from the traffic mix (~75 % `waiter_call`). */
  code: string;
  /** Numeric table id (`table`, `table_repr.id`); default: the id of `tableName`, or a random table. */
  table: number;
  /** `table_repr.name`, what staff call the table; default: the name of `table`, or a random table. */
  tableName: string;
  /** `table_repr.max_guests`; default: the table's own (4 for a table the simulator does not know). */
  maxGuests: number;
  /** The bill; default: an invented invoice for bill/payment codes, else null. */
  invoice: Record<string, unknown> | null;
  /** The order; default: an invented order for order codes, else null. */
  order: Record<string, unknown> | null;
  /** The event's hash; default: a fresh `0x` + 8 hex from the seeded random. Must not be queued already. */
  hash: string;
}

const objectOrNull = z.record(z.string(), z.unknown()).nullable();

/** Validates `inject()` input: unknown keys are refused, so a typo (`tablename`) fails loudly. */
export const SimEventInputSchema = z.strictObject({
  code: z.string().min(1).optional(),
  table: z.number().int().nonnegative().optional(),
  tableName: z.string().min(1).optional(),
  maxGuests: z.number().int().nonnegative().optional(),
  invoice: objectOrNull.optional(),
  order: objectOrNull.optional(),
  hash: z.string().min(1).optional(),
});

/** Checks `inject()` input; throws InvalidEventInputError naming each bad field. */
export function parseEventInput(input: unknown): Partial<SimEventInput> {
  const parsed = SimEventInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw new InvalidEventInputError(`not a valid event: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** A table of the simulated restaurant. */
export interface SimTable {
  readonly id: number;
  readonly name: string;
  readonly maxGuests: number;
}

/** Ids start at 1000001 like the documented example's 1000028. */
export const TABLE_ID_BASE = 1_000_000;

/** The simulated floor: tables "1".."30", then "VIP", "Бар 2" and "Терраса 5". */
export const TABLES: readonly SimTable[] = [
  ...Array.from({ length: 30 }, (_, i) => ({
    id: TABLE_ID_BASE + i + 1,
    name: String(i + 1),
    maxGuests: i < 20 ? 4 : 6,
  })),
  { id: TABLE_ID_BASE + 31, name: 'VIP', maxGuests: 12 },
  { id: TABLE_ID_BASE + 32, name: 'Бар 2', maxGuests: 2 },
  { id: TABLE_ID_BASE + 33, name: 'Терраса 5', maxGuests: 8 },
];

/** Codes of generated traffic with their weights: mostly waiter calls. */
export const CODE_MIX: readonly (readonly [string, number])[] = [
  ['waiter_call', 75],
  ['bill_request', 8],
  ['waiter_call_cash', 5],
  ['new_order', 6],
  ['order_paid', 4],
  ['unknown', 2],
];

/** Codes no client knows, drawn when the mix says `unknown`. */
export const UNKNOWN_CODES: readonly string[] = ['table_cleaning', 'hookah_call', 'guest_feedback'];

/** Codes that carry a bill (INVENTED mapping). */
const INVOICE_CODES = new Set(['bill_request', 'waiter_call_cash', 'order_paid']);
/** Codes that carry an order (INVENTED mapping) and the order status they imply. */
const ORDER_STATUS: Readonly<Record<string, string>> = { new_order: 'new', order_paid: 'paid' };

const MENU: readonly (readonly [string, number])[] = [
  ['Борщ', 450],
  ['Пельмени', 520],
  ['Цезарь с курицей', 590],
  ['Пицца Маргарита', 690],
  ['Хачапури по-аджарски', 640],
  ['Стейк рибай', 2450],
  ['Оливье', 390],
  ['Тирамису', 380],
  ['Морс клюквенный', 180.5],
  ['Капучино', 220],
  ['Чай чёрный', 150],
];
const DISH_COMMENTS: readonly string[] = ['без лука', 'острое', 'без сахара', 'подать позже'];

/** One dish line of the INVENTED invoice/order shapes (type aliases, not interfaces: they must fit `Record<string, unknown>`). */
export type SimDish = {
  name: string;
  quantity: number;
  price: number;
  comment?: string;
};

/** INVENTED invoice shape (the real one is not public). */
export type SimInvoice = {
  id: string;
  table: number;
  sum_to_pay: number;
  currency: 'RUB';
  dishes: SimDish[];
};

/** INVENTED order shape (the real one is not public). */
export type SimOrder = {
  id: string;
  table: number;
  status: string;
  dishes: SimDish[];
  total: number;
};

function dishes(random: Random, withComments: boolean): SimDish[] {
  return Array.from({ length: random.int(1, 4) }, () => {
    const [name, price] = random.pick(MENU);
    const dish: SimDish = { name, quantity: random.int(1, 3), price };
    if (withComments && random.chance(0.3)) dish.comment = random.pick(DISH_COMMENTS);
    return dish;
  });
}

const total = (lines: readonly SimDish[]): number =>
  Math.round(lines.reduce((sum, d) => sum + d.quantity * d.price, 0) * 100) / 100;

/** An INVENTED invoice for a table. */
export function generateInvoice(random: Random, tableId: number): SimInvoice {
  const lines = dishes(random, false);
  return {
    id: `inv-${random.int(100_000, 999_999)}`,
    table: tableId,
    sum_to_pay: total(lines),
    currency: 'RUB',
    dishes: lines,
  };
}

/** An INVENTED order for a table. */
export function generateOrder(random: Random, tableId: number, status: string): SimOrder {
  const lines = dishes(random, true);
  return { id: `ord-${random.int(100_000, 999_999)}`, table: tableId, status, dishes: lines, total: total(lines) };
}

/** A stable made-up id for a table name the floor does not have. */
function idForName(name: string): number {
  let h = 2_166_136_261;
  for (const ch of name) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 16_777_619) >>> 0;
  return TABLE_ID_BASE + 100 + (h % 899_900);
}

function resolveTable(input: Partial<SimEventInput>, random: Random): WireTable {
  const byId = input.table === undefined ? undefined : TABLES.find((t) => t.id === input.table);
  const byName = input.tableName === undefined ? undefined : TABLES.find((t) => t.name === input.tableName);
  let table: SimTable;
  if (input.table !== undefined || input.tableName !== undefined) {
    const id = input.table ?? byName?.id ?? idForName(input.tableName ?? '');
    const name = input.tableName ?? byId?.name ?? String(id);
    table = { id, name, maxGuests: (byId ?? byName)?.maxGuests ?? 4 };
  } else {
    // Numbered tables are most of the floor; the three named ones get a little traffic each.
    table = random.next() < 0.85 ? random.pick(TABLES.slice(0, 30)) : random.pick(TABLES.slice(30));
  }
  return { id: table.id, name: table.name, max_guests: input.maxGuests ?? table.maxGuests };
}

/** Draws a code from the traffic mix. */
export function generateCode(random: Random): string {
  const code = random.weighted(CODE_MIX);
  return code === 'unknown' ? random.pick(UNKNOWN_CODES) : code;
}

/** A whole event: what `input` fixes, the rest generated from `random`. */
export function buildEvent(hash: string, input: Partial<SimEventInput>, random: Random): WireEvent {
  const code = input.code ?? generateCode(random);
  const table = resolveTable(input, random);
  const invoice =
    input.invoice !== undefined ? input.invoice : INVOICE_CODES.has(code) ? generateInvoice(random, table.id) : null;
  const status = ORDER_STATUS[code];
  const order =
    input.order !== undefined ? input.order : status !== undefined ? generateOrder(random, table.id, status) : null;
  return { hash, code, table: table.id, invoice, order, table_repr: table };
}
