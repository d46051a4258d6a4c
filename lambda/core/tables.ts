/**
 * Table selectors in routes: how staff name tables in the config.
 *
 * A selector is one of
 *   - a table name exactly as staff see it (`table_repr.name`): "6", "VIP", "Bar-2";
 *   - a numeric range of table names: "1-10" (both ends included);
 *   - the name of a zone declared in `zones` ("terrace"), which expands to its own selectors.
 * Pure functions: no I/O, no clock.
 */

export type TableSelector =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'range'; readonly from: number; readonly to: number };

/** Largest table number SNS numeric filter policies compare exactly (they accept ±10^9). */
export const MAX_TABLE_NUMBER = 999_999_999;

const RANGE = /^(\d{1,9})\s*-\s*(\d{1,9})$/;
/** Looks like an attempt at a range ("1-x", "10-", "1 - 1O") but is not one. */
const BROKEN_RANGE = /^\d+\s*-|^-\s*\d/;

export class TableSelectorError extends Error {
  override readonly name = 'TableSelectorError';
}

/**
 * Parse one selector string. Zone names are expanded with `zones` (a zone may not name
 * another zone). Throws {@link TableSelectorError} with a message fit for a config error.
 */
export function parseTableSelector(
  spec: string,
  zones: Readonly<Record<string, readonly string[]>> = {},
): TableSelector[] {
  const text = spec.trim();
  if (text === '') throw new TableSelectorError('an empty string is not a table');
  const zone = zones[text];
  if (zone !== undefined) {
    return zone.flatMap((inner) => {
      if (zones[inner.trim()] !== undefined) {
        throw new TableSelectorError(`zone "${text}" names another zone "${inner}"; list tables instead`);
      }
      return parseTableSelector(inner, {});
    });
  }
  const range = RANGE.exec(text);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (from > to) throw new TableSelectorError(`"${text}" is not a table range: ${from} is greater than ${to}`);
    return [{ kind: 'range', from, to }];
  }
  if (BROKEN_RANGE.test(text)) {
    throw new TableSelectorError(`"${text}" is not a table range (write it like "1-10")`);
  }
  return [{ kind: 'name', name: text }];
}

/** The number a table name stands for, when the whole name is a number SNS can compare. */
export function tableNumber(name: string): number | undefined {
  const text = name.trim();
  if (!/^\d{1,9}$/.test(text)) return undefined;
  return Number(text);
}

/** Does a table (by the name staff use) fall under one of the selectors? */
export function tableMatches(tableName: string, selectors: readonly TableSelector[]): boolean {
  const name = tableName.trim();
  const number = tableNumber(name);
  return selectors.some((s) =>
    s.kind === 'name' ? s.name === name : number !== undefined && number >= s.from && number <= s.to,
  );
}
