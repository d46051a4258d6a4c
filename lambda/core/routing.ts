/**
 * Routing rules: which routes an event matches, who gets e-mail, and the SNS side of SMS routing.
 *
 * E-mail is routed here, in code (`emailRecipients`). SMS is routed by SNS itself: every event is
 * published once with the message attributes from `snsAttributes`, among them `route`, a
 * String.Array of the names of the routes the event matched (`matchingRoutes`); every phone
 * subscribes with the policy `{"route": [its routes]}` (`smsSubscriptions`). One key and no
 * `$or`, so every SNS implementation counts the policy alike: one combination per route name.
 * Pure functions: no I/O.
 */
import type { EscalationStep, Route, RoutingConfig, TelegramChatId, Zones } from '../domain/routes';
import { MAX_TABLE_NUMBER, parseTableSelector, tableMatches, tableNumber, type TableSelector } from './tables';

/** What routing looks at in an event. */
export interface RoutingFacts {
  readonly sourceId: string;
  readonly code: string;
  readonly tableName: string;
}

export function routeSelectors(route: Route, zones: Zones): TableSelector[] | undefined {
  return route.tables?.flatMap((spec) => parseTableSelector(spec, zones));
}

export function routeMatches(route: Route, facts: RoutingFacts, zones: Zones): boolean {
  if (route.codes && !route.codes.includes(facts.code)) return false;
  if (route.sources && !route.sources.includes(facts.sourceId)) return false;
  const selectors = routeSelectors(route, zones);
  return selectors === undefined || tableMatches(facts.tableName, selectors);
}

export function matchingRoutes(config: RoutingConfig, facts: RoutingFacts): Route[] {
  return config.routes.filter((route) => routeMatches(route, facts, config.zones));
}

/** E-mail recipients of every matching route, each once (addresses compared case-insensitively). */
export function emailRecipients(config: RoutingConfig, facts: RoutingFacts): string[] {
  return emailsOf(matchingRoutes(config, facts));
}

/** The zones a table belongs to, in config order. */
export function zonesOf(tableName: string, zones: Zones): string[] {
  return Object.keys(zones).filter((zone) => tableMatches(tableName, parseTableSelector(zone, zones)));
}

// ---------------------------------------------------------------------------------------------
// SNS: message attributes and subscription filter policies

export interface SnsAttribute {
  readonly DataType: 'String' | 'Number' | 'String.Array';
  readonly StringValue: string;
}

/** SNS message attribute names; filter policies refer to them. */
export const SNS_ATTRIBUTE = {
  /** The names of the routes the event matched, a String.Array (a JSON array); the SMS policies filter on it. */
  route: 'route',
  source: 'source',
  code: 'code',
  /** The table's name as staff use it ("6", "VIP"). */
  table: 'table',
  /** The same name as a Number, present only when the name is a whole number (for ranges). */
  tableNumber: 'table_num',
  /** Zones the table belongs to, comma-separated, for subscribers' information (policies do not use it). */
  zone: 'zone',
  /** The escalation step of an unanswered call (absent for the alert itself). */
  escalation: 'escalation',
} as const;

/**
 * SNS limits on one subscription filter policy: at most 5 keys, and at most 150 combinations
 * (AWS: multiply the number of values in each key's array).
 */
export const SNS_POLICY_LIMITS = { maxKeys: 5, maxCombinations: 150 } as const;

/**
 * The attributes of one event's publish: `route` (only when a route matched), `source`, `code`,
 * `table`, and for integrators `table_num` and `zone`.
 */
export function snsAttributes(
  facts: RoutingFacts,
  config: RoutingConfig,
  /** The routes that page now (opening hours, escalation); default: every matching route. */
  paging?: readonly Route[],
  /** An escalation step (≥ 1) is published with `escalation`, for integrators. */
  step?: number,
): Record<string, SnsAttribute> {
  const attributes: Record<string, SnsAttribute> = {};
  const routes = (paging ?? matchingRoutes(config, facts)).map((route) => route.name);
  if (routes.length > 0) {
    attributes[SNS_ATTRIBUTE.route] = { DataType: 'String.Array', StringValue: JSON.stringify(routes) };
  }
  attributes[SNS_ATTRIBUTE.source] = { DataType: 'String', StringValue: facts.sourceId };
  attributes[SNS_ATTRIBUTE.code] = { DataType: 'String', StringValue: facts.code };
  attributes[SNS_ATTRIBUTE.table] = { DataType: 'String', StringValue: facts.tableName.trim() || '?' };
  const number = tableNumber(facts.tableName);
  if (number !== undefined && number <= MAX_TABLE_NUMBER) {
    attributes[SNS_ATTRIBUTE.tableNumber] = { DataType: 'Number', StringValue: String(number) };
  }
  const inZones = zonesOf(facts.tableName, config.zones);
  if (inZones.length > 0) {
    attributes[SNS_ATTRIBUTE.zone] = { DataType: 'String', StringValue: inZones.join(',') };
  }
  if (step !== undefined && step > 0)
    attributes[SNS_ATTRIBUTE.escalation] = { DataType: 'Number', StringValue: String(step) };
  return attributes;
}

// ---------------------------------------------------------------------------------------------
// Who is paged now, and the staff loop: opening hours, acknowledgement, escalation

/**
 * The routes that page for an event: the matching ones, and outside the source's opening hours
 * only those marked `always`. Escalation step n (≥ 1) pages its step's route instead.
 */
export function pagingRoutes(config: RoutingConfig, facts: RoutingFacts, open: boolean, step = 0): Route[] {
  const matching = matchingRoutes(config, facts).filter(
    (route) => (open || route.always === true) && route.escalationOnly !== true,
  );
  if (step === 0) return matching;
  const target = escalationSteps(matching)[step - 1]?.to;
  return config.routes.filter((route) => route.name === target);
}

/** The escalation steps of the routes that page, in time order, each target route once. */
export function escalationSteps(routes: readonly Route[]): EscalationStep[] {
  const steps = routes.flatMap((route) => route.escalate ?? []).sort((a, b) => a.afterSeconds - b.afterSeconds);
  const seen = new Set<string>();
  return steps.filter((step) => !seen.has(step.to) && seen.add(step.to));
}

/** Telegram chats of these routes, each once. */
export function telegramChats(routes: readonly Route[]): TelegramChatId[] {
  return [...new Set(routes.flatMap((route) => route.telegram ?? []))];
}

/** E-mail recipients of these routes, each once (addresses compared case-insensitively). */
export function emailsOf(routes: readonly Route[]): string[] {
  const byKey = new Map<string, string>();
  for (const route of routes) {
    for (const address of route.email) {
      const key = address.toLowerCase();
      if (!byKey.has(key)) byKey.set(key, address);
    }
  }
  return [...byKey.values()];
}

/** An SNS filter policy on message attributes: every key must match one of its values. No `$or`. */
export type FilterPolicy = Readonly<Record<string, readonly string[]>>;

/** The policy of a subscriber that takes what these routes take: `{"route": [names]}`. */
export function routeFilterPolicy(routeNames: readonly string[]): FilterPolicy {
  return { [SNS_ATTRIBUTE.route]: [...new Set(routeNames)] };
}

/** Keys and combinations as AWS documents them: the product of the number of values of each key. */
export function policyComplexity(policy: FilterPolicy): { keys: number; combinations: number } {
  const values = Object.values(policy);
  return { keys: values.length, combinations: values.reduce((product, v) => product * v.length, 1) };
}

export class FilterPolicyLimitError extends Error {
  override readonly name = 'FilterPolicyLimitError';
}

/**
 * THE check of a filter policy against SNS's limits, for the config schema (SMS phones) and the
 * CDK config (extra subscribers) alike. Throws {@link FilterPolicyLimitError} naming `who` gets
 * the policy and what to change; returns the policy when SNS accepts it.
 */
export function checkFilterPolicy(policy: FilterPolicy, who: string): FilterPolicy {
  const { keys, combinations } = policyComplexity(policy);
  if (keys > SNS_POLICY_LIMITS.maxKeys || combinations > SNS_POLICY_LIMITS.maxCombinations) {
    throw new FilterPolicyLimitError(
      `${who} an SNS filter policy with ${combinations} value combinations, one per route ` +
        `(SNS allows ${SNS_POLICY_LIMITS.maxCombinations}): merge routes that send to the same recipients`,
    );
  }
  return policy;
}

export interface SmsSubscription {
  /** E.164 phone number. */
  readonly phone: string;
  /** Names of the routes that send this phone SMS. */
  readonly routes: readonly string[];
  /** Filter policy for the SNS subscription: `{"route": routes}`. */
  readonly filterPolicy: FilterPolicy;
}

/**
 * One SNS SMS subscription per phone, however many routes name it (so one event sends one SMS),
 * with the policy `{"route": [its routes]}`. Throws {@link FilterPolicyLimitError} when a phone is
 * on more routes than SNS accepts values, naming the phone and the routes.
 */
export function smsSubscriptions(config: RoutingConfig): SmsSubscription[] {
  const byPhone = new Map<string, string[]>();
  for (const route of config.routes) {
    for (const phone of new Set(route.sms)) byPhone.set(phone, [...(byPhone.get(phone) ?? []), route.name]);
  }
  return [...byPhone].map(([phone, routes]) => ({
    phone,
    routes,
    filterPolicy: checkFilterPolicy(
      routeFilterPolicy(routes),
      `routes ${routes.map((n) => `"${n}"`).join(', ')} give ${phone}`,
    ),
  }));
}
