/**
 * Routing rules: which routes an event matches, who gets e-mail, and the SNS side of SMS routing.
 *
 * E-mail is routed here, in code (`emailRecipients`). SMS is routed by SNS itself: every event is
 * published once with the message attributes from `snsAttributes`, and every phone subscribes
 * with the filter policy from `smsSubscriptions`. Both are derived from the same routes, and the
 * tests check that SNS's evaluation of a policy agrees with `routeMatches` event by event.
 * Pure functions: no I/O.
 */
import type { AlertsConfig, RouteConfig } from '../config/schema';
import { MAX_TABLE_NUMBER, parseTableSelector, tableMatches, tableNumber, type TableSelector } from './tables';

/** What routing looks at in an event. */
export interface RoutingFacts {
  readonly sourceId: string;
  readonly code: string;
  readonly tableName: string;
}

type Zones = AlertsConfig['zones'];

export function routeSelectors(route: RouteConfig, zones: Zones): TableSelector[] | undefined {
  return route.tables?.flatMap((spec) => parseTableSelector(spec, zones));
}

export function routeMatches(route: RouteConfig, facts: RoutingFacts, zones: Zones): boolean {
  if (route.codes && !route.codes.includes(facts.code)) return false;
  if (route.sources && !route.sources.includes(facts.sourceId)) return false;
  const selectors = routeSelectors(route, zones);
  return selectors === undefined || tableMatches(facts.tableName, selectors);
}

export function matchingRoutes(config: Pick<AlertsConfig, 'routes' | 'zones'>, facts: RoutingFacts): RouteConfig[] {
  return config.routes.filter((route) => routeMatches(route, facts, config.zones));
}

/** E-mail recipients of every matching route, each once (addresses compared case-insensitively). */
export function emailRecipients(config: Pick<AlertsConfig, 'routes' | 'zones'>, facts: RoutingFacts): string[] {
  const byKey = new Map<string, string>();
  for (const route of matchingRoutes(config, facts)) {
    for (const address of route.email) {
      const key = address.toLowerCase();
      if (!byKey.has(key)) byKey.set(key, address);
    }
  }
  return [...byKey.values()];
}

/** The zones a table belongs to, in config order. */
export function zonesOf(tableName: string, zones: Zones): string[] {
  return Object.keys(zones).filter((zone) => tableMatches(tableName, parseTableSelector(zone, zones)));
}

// ---------------------------------------------------------------------------------------------
// SNS: message attributes and subscription filter policies

export interface SnsAttribute {
  readonly DataType: 'String' | 'Number';
  readonly StringValue: string;
}

/** SNS message attribute names; filter policies refer to them. */
export const SNS_ATTRIBUTE = {
  source: 'source',
  code: 'code',
  /** The table's name as staff use it ("6", "VIP"). */
  table: 'table',
  /** The same name as a Number, present only when the name is a whole number (for ranges). */
  tableNumber: 'table_num',
  /** Zones the table belongs to, comma-separated, for subscribers' information (policies do not use it). */
  zone: 'zone',
} as const;

/** SNS limits on one subscription filter policy. */
export const SNS_POLICY_LIMITS = { maxKeys: 5, maxCombinations: 150 } as const;

export function snsAttributes(facts: RoutingFacts, zones: Zones): Record<string, SnsAttribute> {
  const attributes: Record<string, SnsAttribute> = {
    [SNS_ATTRIBUTE.source]: { DataType: 'String', StringValue: facts.sourceId },
    [SNS_ATTRIBUTE.code]: { DataType: 'String', StringValue: facts.code },
    [SNS_ATTRIBUTE.table]: { DataType: 'String', StringValue: facts.tableName.trim() || '?' },
  };
  const number = tableNumber(facts.tableName);
  if (number !== undefined && number <= MAX_TABLE_NUMBER) {
    attributes[SNS_ATTRIBUTE.tableNumber] = { DataType: 'Number', StringValue: String(number) };
  }
  const inZones = zonesOf(facts.tableName, zones);
  if (inZones.length > 0) attributes[SNS_ATTRIBUTE.zone] = { DataType: 'String', StringValue: inZones.join(',') };
  return attributes;
}

type PolicyValue = string | { numeric: (string | number)[] };
/** One AND-clause: every key must match one of its values. */
export type PolicyClause = Record<string, PolicyValue[]>;
/** An SNS filter policy: one clause, or `{ $or: clauses }`. */
export type FilterPolicy = PolicyClause | { $or: PolicyClause[] };

/** A route as a list of AND-clauses (OR between them); `[]` never happens, `[{}]` = everything. */
export function routeClauses(route: RouteConfig, zones: Zones): PolicyClause[] {
  const base: PolicyClause = {};
  if (route.codes) base[SNS_ATTRIBUTE.code] = [...new Set(route.codes)];
  if (route.sources) base[SNS_ATTRIBUTE.source] = [...new Set(route.sources)];
  const selectors = routeSelectors(route, zones);
  if (selectors === undefined) return [base];
  const names = [...new Set(selectors.flatMap((s) => (s.kind === 'name' ? [s.name] : [])))];
  const ranges = selectors.flatMap((s) =>
    s.kind === 'range' ? [{ numeric: s.from === s.to ? ['=', s.from] : ['>=', s.from, '<=', s.to] }] : [],
  );
  const clauses: PolicyClause[] = [];
  if (names.length > 0) clauses.push({ ...base, [SNS_ATTRIBUTE.table]: names });
  if (ranges.length > 0) clauses.push({ ...base, [SNS_ATTRIBUTE.tableNumber]: ranges });
  return clauses;
}

export class FilterPolicyLimitError extends Error {
  override readonly name = 'FilterPolicyLimitError';
}

/** Combinations as SNS counts them: per clause the product of the values per key, summed over clauses. */
export function policyComplexity(clauses: readonly PolicyClause[]): { keys: number; combinations: number } {
  const keys = new Set(clauses.flatMap((c) => Object.keys(c)));
  const combinations = clauses.reduce(
    (sum, c) => sum + Object.values(c).reduce((p, values) => p * values.length, 1),
    0,
  );
  return { keys: keys.size, combinations };
}

/** The policy for a set of clauses, or null when one clause is empty (the subscriber takes everything). */
export function toFilterPolicy(clauses: readonly PolicyClause[]): FilterPolicy | null {
  if (clauses.some((c) => Object.keys(c).length === 0)) return null;
  if (clauses.length === 1) return clauses[0]!;
  return { $or: [...clauses] };
}

export interface SmsSubscription {
  /** E.164 phone number. */
  readonly phone: string;
  /** Names of the routes that send this phone SMS. */
  readonly routes: readonly string[];
  /** Filter policy for the SNS subscription; null = every event. */
  readonly filterPolicy: FilterPolicy | null;
}

/**
 * One SNS SMS subscription per phone, however many routes name it (so one event sends one SMS),
 * with a filter policy that is the OR of its routes. Throws {@link FilterPolicyLimitError} when a
 * policy exceeds what SNS accepts, naming the phone and the routes.
 */
export function smsSubscriptions(config: Pick<AlertsConfig, 'routes' | 'zones'>): SmsSubscription[] {
  const byPhone = new Map<string, RouteConfig[]>();
  for (const route of config.routes) {
    for (const phone of new Set(route.sms)) byPhone.set(phone, [...(byPhone.get(phone) ?? []), route]);
  }
  return [...byPhone].map(([phone, routes]) => {
    const clauses = dedupeClauses(routes.flatMap((route) => routeClauses(route, config.zones)));
    const { keys, combinations } = policyComplexity(clauses);
    const names = routes.map((r) => r.name);
    if (keys > SNS_POLICY_LIMITS.maxKeys || combinations > SNS_POLICY_LIMITS.maxCombinations) {
      throw new FilterPolicyLimitError(
        `routes ${names.map((n) => `"${n}"`).join(', ')} give ${phone} an SNS filter policy with ${combinations} value combinations ` +
          `(SNS allows ${SNS_POLICY_LIMITS.maxCombinations}): use table ranges ("1-40") or zones instead of long lists of tables, ` +
          'or fewer codes/sources per route',
      );
    }
    return { phone, routes: names, filterPolicy: toFilterPolicy(clauses) };
  });
}

function dedupeClauses(clauses: PolicyClause[]): PolicyClause[] {
  const seen = new Set<string>();
  return clauses.filter((c) => {
    const key = JSON.stringify(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
